"""The validator repacks a plan and rejects each kind of infeasibility, naming where it is."""

from __future__ import annotations

from verifiers.cost import Offering, Plan, PlannedNode, PlanProblem, Workload, validate_plan

OD = Offering(instance_type="m", cpu_m=4000, memory_mib=8192, max_pods=3, usd_per_hour=0.2)
SPOT = Offering(
    instance_type="m", capacity_type="spot", cpu_m=4000, memory_mib=8192, max_pods=3, usd_per_hour=0.07
)
SPOT2 = Offering(
    instance_type="n", capacity_type="spot", cpu_m=4000, memory_mib=8192, max_pods=3, usd_per_hour=0.08
)
WEB = Workload(
    name="shop/Deployment/web", replicas=2, cpu_m=1800, memory_mib=1024, spot_allowed=True, max_spot_share=0.5
)
DB = Workload(name="shop/StatefulSet/db", replicas=1, cpu_m=500, memory_mib=4096)
PROBLEM = PlanProblem(workloads=[WEB, DB], offerings=[OD, SPOT, SPOT2])


def plan(nodes: list[PlannedNode], cost: float, **kw: object) -> Plan:
    return Plan.model_validate(
        {"nodes": nodes, "hourly_cost": cost, "lower_bound": 0.0, "bound_source": "none",
         "status": "feasible", "solver": "hand", **kw}
    )  # fmt: skip


def test_a_valid_plan_passes() -> None:
    p = plan([PlannedNode(offering="m/on-demand", pods={WEB.name: 1, DB.name: 1}),
              PlannedNode(offering="m/spot", pods={WEB.name: 1})], 0.27)  # fmt: skip
    assert validate_plan(PROBLEM, p).ok


def test_overfull_node_is_rejected() -> None:
    p = plan([PlannedNode(offering="m/on-demand", pods={WEB.name: 2, DB.name: 1})], 0.2)
    result = validate_plan(PROBLEM, p)
    assert not result.ok
    assert "/nodes/0: CPU 4100m exceeds allocatable 4000m of m/on-demand" in result.errors
    big = Workload(name="x/Deployment/big", replicas=3, cpu_m=100, memory_mib=100)
    crowded = plan([PlannedNode(offering="m/on-demand", pods={big.name: 3, DB.name: 1})], 0.2)
    errors = validate_plan(PlanProblem(workloads=[big, DB], offerings=[OD]), crowded).errors
    assert any("4 pods exceed max pods 3" in e for e in errors)


def test_spot_rules_are_enforced() -> None:
    on_spot_db = plan([PlannedNode(offering="m/spot", pods={DB.name: 1, WEB.name: 1}),
                       PlannedNode(offering="m/on-demand", pods={WEB.name: 1})], 0.27)  # fmt: skip
    assert any("/nodes/0/pods/shop/StatefulSet/db" in e for e in validate_plan(PROBLEM, on_spot_db).errors)
    both_spot = plan([PlannedNode(offering="m/spot", pods={WEB.name: 1}),
                      PlannedNode(offering="n/spot", pods={WEB.name: 1}),
                      PlannedNode(offering="m/on-demand", pods={DB.name: 1})], 0.35)  # fmt: skip
    assert any("exceed the cap 1" in e for e in validate_plan(PROBLEM, both_spot).errors)


def test_missing_pods_and_wrong_cost_are_rejected() -> None:
    lost = plan([PlannedNode(offering="m/on-demand", pods={WEB.name: 1, DB.name: 1})], 0.2)
    assert any("1 placed + 0 unplaceable != 2" in e for e in validate_plan(PROBLEM, lost).errors)
    hidden = plan([PlannedNode(offering="m/on-demand", pods={WEB.name: 1, DB.name: 1})], 0.2,
                  unplaceable={WEB.name: 1})  # fmt: skip
    assert any("reported unplaceable but" in e for e in validate_plan(PROBLEM, hidden).errors)
    cheap = plan([PlannedNode(offering="m/on-demand", pods={WEB.name: 2, DB.name: 0}),
                  PlannedNode(offering="m/on-demand", pods={DB.name: 1})], 0.1)  # fmt: skip
    assert any(e.startswith("/hourly_cost") for e in validate_plan(PROBLEM, cheap).errors)
    unknown = plan([PlannedNode(offering="z/on-demand", pods={WEB.name: 2, DB.name: 1})], 0.0)
    assert any("unknown offering" in e for e in validate_plan(PROBLEM, unknown).errors)
