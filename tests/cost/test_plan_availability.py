"""Availability rules hold in every plan, exact or large, and the validator rejects a plan that breaks one:
per-node caps, per-zone caps, zone spreads, anti-affinity between workloads, taints, node affinity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes
from verifiers.cost import (
    Offering,
    PlannedNode,
    PlanProblem,
    Requirement,
    Taint,
    Toleration,
    Workload,
    certified_configuration_bound,
    validate_plan,
)

ZONES = ["z-a", "z-b", "z-c"]
BIG = Offering(instance_type="big", cpu_m=16000, memory_mib=65536, usd_per_hour=0.5)
SMALL = Offering(instance_type="small", cpu_m=2000, memory_mib=8192, usd_per_hour=0.1)
GPU = Offering(instance_type="gpu", cpu_m=8000, memory_mib=32768, usd_per_hour=0.2,
               taints=(Taint(key="nvidia.com/gpu", value="true"),))  # fmt: skip


def _web(**rules: object) -> Workload:
    return Workload.model_validate(
        {"name": "ns/Deployment/web", "replicas": 4, "cpu_m": 1000, "memory_mib": 1024, **rules}
    )


@pytest.mark.parametrize("exact_max_pods", [0, 100])
def test_replicas_on_separate_nodes(exact_max_pods: int) -> None:
    problem = PlanProblem(workloads=[_web(max_per_node=1)], offerings=[BIG, SMALL])
    plan = plan_nodes(problem, effort=0.2, exact_max_pods=exact_max_pods)
    assert validate_plan(problem, plan).ok
    assert all(n.pods.get("ns/Deployment/web", 0) <= 1 for n in plan.nodes) and len(plan.nodes) == 4
    assert plan.hourly_cost == pytest.approx(0.4)
    together = plan.model_copy(update={"nodes": [PlannedNode(offering="big/on-demand", pods={"ns/Deployment/web": 4})],
                                       "hourly_cost": 0.5})  # fmt: skip
    assert any("4 pods on one node exceed its limit 1" in e for e in validate_plan(problem, together).errors)


@pytest.mark.parametrize("exact_max_pods", [0, 100])
def test_zone_spread_and_per_zone_cap(exact_max_pods: int) -> None:
    spread = _web(zone_max_skew=1)
    single = Workload(name="ns/Deployment/one", replicas=5, cpu_m=500, memory_mib=512, max_per_zone=1)
    problem = PlanProblem(workloads=[spread, single], offerings=[BIG, SMALL], zones=ZONES)
    plan = plan_nodes(problem, effort=0.2, exact_max_pods=exact_max_pods)
    assert validate_plan(problem, plan).ok
    per_zone = Counter()
    for n in plan.nodes:
        per_zone[n.zone] += n.pods.get(spread.name, 0)
    assert sorted(per_zone.values()) == [1, 1, 2]
    assert plan.unplaceable == {single.name: 2} and "per zone" in plan.unplaceable_reasons[single.name]
    skewed = [PlannedNode(offering="big/on-demand", pods={spread.name: 3}, zone="z-a"),
              PlannedNode(offering="small/on-demand", pods={spread.name: 1}, zone="z-b")]  # fmt: skip
    bad = plan.model_copy(update={"nodes": skewed, "hourly_cost": 0.6, "unplaceable": {single.name: 5}})
    assert any("differ by more than its max skew 1" in e for e in validate_plan(problem.model_copy(
        update={"workloads": [spread, single]}), bad).errors)  # fmt: skip


def test_anti_affinity_taints_and_node_affinity() -> None:
    api = Workload(
        name="ns/Deployment/api", replicas=2, cpu_m=500, memory_mib=512, separate_from=("ns/Deployment/db",)
    )
    db = Workload(name="ns/Deployment/db", replicas=2, cpu_m=500, memory_mib=512)
    ml = Workload(name="ns/Deployment/ml", replicas=2, cpu_m=3000, memory_mib=4096,
                  tolerations=(Toleration(key="nvidia.com/gpu", operator="Exists"),),
                  node_affinity=((Requirement(key="node.kubernetes.io/instance-type", operator="In", values=("gpu",)),),))  # fmt: skip
    problem = PlanProblem(workloads=[api, db, ml], offerings=[BIG, SMALL, GPU])
    plan = plan_nodes(problem, effort=0.2)
    assert validate_plan(problem, plan).ok
    for n in plan.nodes:
        assert not (n.pods.get(api.name) and n.pods.get(db.name))
        assert (n.offering == "gpu/on-demand") == bool(n.pods.get(ml.name))
    assert all(
        n.offering != "gpu/on-demand" for n in plan.nodes if n.pods.get(api.name) or n.pods.get(db.name)
    )
    mixed = [PlannedNode(offering="big/on-demand", pods={api.name: 2, db.name: 2}),
             PlannedNode(offering="gpu/on-demand", pods={ml.name: 2})]  # fmt: skip
    errors = validate_plan(problem, plan.model_copy(update={"nodes": mixed, "hourly_cost": 0.7})).errors
    assert any("shares the node with ns/Deployment/db" in e for e in errors)
    tainted = [PlannedNode(offering="gpu/on-demand", pods={api.name: 2, ml.name: 2}),
               PlannedNode(offering="small/on-demand", pods={db.name: 2})]  # fmt: skip
    errors = validate_plan(problem, plan.model_copy(update={"nodes": tainted, "hourly_cost": 0.3})).errors
    assert any("/pods/ns/Deployment/api: not allowed on gpu/on-demand" in e for e in errors)


@pytest.mark.parametrize("seed", range(5))
def test_rules_keep_plans_exact_and_bounds_sound(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(seed + 500, pods=6, rules=True)
    plan = plan_nodes(problem, effort=0.3)
    best = brute_force(problem)
    assert validate_plan(problem, plan).ok
    assert plan.status == "optimal" and plan.hourly_cost == pytest.approx(best, abs=1e-9)
    if plan.configuration_certificate is not None:  # the verifier's knapsack knows the per-node caps too
        assert certified_configuration_bound(problem, plan.configuration_certificate) <= best + 1e-9


def test_large_plans_keep_every_rule(make_problem: Callable[..., PlanProblem]) -> None:
    base = make_problem(11, pods=150, rules=True)
    works = [w.model_copy(update={"zone_max_skew": 1}) if i % 3 == 0 and w.replicas > 1 else w
             for i, w in enumerate(base.workloads)]  # fmt: skip
    problem = base.model_copy(update={"workloads": works, "zones": ZONES})
    plan = plan_nodes(problem, effort=0.2, exact_max_pods=0)
    check = validate_plan(problem, plan)
    assert check.ok, check.errors[:5]
    assert plan.lower_bound <= plan.hourly_cost and not plan.unplaceable
