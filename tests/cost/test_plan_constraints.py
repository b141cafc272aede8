"""Every combination of spot, selector and size rules either plans or names the rule that cannot be met."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tools.cost.plan import plan_nodes
from verifiers.cost import Offering, PlanProblem, Workload, validate_plan

OFFERINGS = [
    Offering(instance_type=t, capacity_type=ct, cpu_m=3900, memory_mib=15000, usd_per_hour=p, arch=arch)
    for t, ct, p, arch in [
        ("a", "on-demand", 0.2, "amd64"),
        ("a", "spot", 0.05, "amd64"),
        ("b", "spot", 0.06, "amd64"),
        ("g", "on-demand", 0.15, "arm64"),
    ]
]
SELECTORS = [
    {},
    {"karpenter.sh/capacity-type": "spot"},
    {"karpenter.sh/capacity-type": "on-demand"},
    {"kubernetes.io/arch": "arm64", "karpenter.sh/capacity-type": "spot"},
    {"node.kubernetes.io/instance-type": "z"},
]


@pytest.mark.parametrize(
    ("selector", "spot", "share", "pools", "replicas", "cpu_m"),
    list(
        itertools.product(range(len(SELECTORS)), [False, True], [0.0, 0.5, 1.0], [1, 3], [1, 3], [900, 5000])
    ),
)
def test_every_combination_plans_or_names_the_constraint(
    selector: int, spot: bool, share: float, pools: int, replicas: int, cpu_m: int
) -> None:
    w = Workload(name="ns/Deployment/w", replicas=replicas, cpu_m=cpu_m, memory_mib=1000,
                 node_selector=SELECTORS[selector], spot_allowed=spot, max_spot_share=share,
                 min_spot_pools=pools)  # fmt: skip
    other = Workload(name="ns/Deployment/other", replicas=2, cpu_m=500, memory_mib=500)
    problem = PlanProblem(workloads=[w, other], offerings=OFFERINGS)
    plan = plan_nodes(problem, effort=0.25)
    assert validate_plan(problem, plan).ok
    assert set(plan.unplaceable) == set(plan.unplaceable_reasons)
    assert "ns/Deployment/other" not in plan.unplaceable
    if w.name in plan.unplaceable:
        assert plan.unplaceable_reasons[w.name]
        placed = sum(n.pods.get(w.name, 0) for n in plan.nodes)
        assert placed + plan.unplaceable[w.name] == replicas


def test_spot_only_selector_with_the_default_share_plans_half_and_says_why() -> None:
    w = Workload(name="ns/Deployment/s", replicas=3, cpu_m=500, memory_mib=512, spot_allowed=True,
                 max_spot_share=0.5, min_spot_pools=2, node_selector={"karpenter.sh/capacity-type": "spot"})  # fmt: skip
    problem = PlanProblem(workloads=[w], offerings=OFFERINGS)
    plan = plan_nodes(problem, effort=0.25)
    assert plan.unplaceable == {w.name: 2}
    assert "spot share of 0.5 lets 1 of 3 replicas run on spot" in plan.unplaceable_reasons[w.name]
    assert validate_plan(problem, plan).ok


def test_the_validator_rejects_pods_dropped_without_cause() -> None:
    w = Workload(name="ns/Deployment/s", replicas=3, cpu_m=500, memory_mib=512, spot_allowed=True,
                 node_selector={"karpenter.sh/capacity-type": "spot"})  # fmt: skip
    problem = PlanProblem(workloads=[w], offerings=OFFERINGS)
    plan = plan_nodes(problem, effort=0.25)
    assert not plan.unplaceable
    node = plan.nodes[0]
    dropped = plan.model_copy(update={
        "nodes": [node.model_copy(update={"pods": {w.name: node.pods[w.name] - 1}}), *plan.nodes[1:]],
        "unplaceable": {w.name: 1}})  # fmt: skip
    assert any("constraints let 3 of 3 replicas run" in e for e in validate_plan(problem, dropped).errors)


def test_report_on_a_spot_only_workload_plans_it(tmp_path: Path) -> None:
    from tests.cost.test_savings import snapshot
    from tools.cost.catalog import PriceCatalog
    from tools.cost.cluster import ClusterPod, ClusterWorkload, _spot_policy
    from tools.cost.engine import optimize
    from tools.cost.rightsize import ContainerResources
    from tools.cost.usage import RecordedUsageSource

    selector = {"karpenter.sh/capacity-type": "spot"}
    assert _spot_policy("Deployment", 2, {}, selector) == (True, 1.0, 2)  # asking for spot means spot only
    batch = ClusterWorkload(
        namespace="ops", kind="Deployment", name="batch", replicas=3, node_selector=selector,
        containers={"batch": ContainerResources(cpu_request_m=500, memory_request_mib=512)},
        pods=[ClusterPod(name=f"batch-{i}") for i in range(3)], spot_allowed=True, max_spot_share=0.5,
        min_spot_pools=2,
    )  # fmt: skip
    snap = snapshot()
    snap = snap.model_copy(update={"workloads": [*snap.workloads, batch]})
    (tmp_path / "u.json").write_text('{"series": []}')
    report = optimize(snap, RecordedUsageSource(tmp_path / "u.json"), PriceCatalog(), effort=0.3)
    assert report.plan.unplaceable == {"ops/Deployment/batch": 2}
    assert any("ops/Deployment/batch: 2 pod(s) not planned" in n and "spot share" in n for n in report.notes)
