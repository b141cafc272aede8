"""Spot constraints hold in every plan: not-allowed, max spot share, spread over spot pools."""

from __future__ import annotations

from collections import Counter

import pytest

from tools.cost.plan import plan_nodes
from verifiers.cost import Offering, PlanProblem, Workload, validate_plan

OFFERINGS = [
    Offering(instance_type=t, capacity_type=ct, cpu_m=3900, memory_mib=15000, usd_per_hour=p)
    for t, ct, p in [("a", "on-demand", 0.2), ("a", "spot", 0.05), ("b", "spot", 0.06), ("c", "spot", 0.07)]
]


@pytest.mark.parametrize("exact_max_pods", [0, 100])
def test_spot_share_and_pools(exact_max_pods: int) -> None:
    web = Workload(name="w/Deployment/web", replicas=12, cpu_m=900, memory_mib=1000,
                   spot_allowed=True, max_spot_share=0.75, min_spot_pools=3)  # fmt: skip
    db = Workload(name="w/StatefulSet/db", replicas=4, cpu_m=900, memory_mib=1000)
    problem = PlanProblem(workloads=[web, db], offerings=OFFERINGS)
    plan = plan_nodes(problem, effort=0.5, exact_max_pods=exact_max_pods)
    assert validate_plan(problem, plan).ok
    spot_by_pool: Counter[str] = Counter()
    for node in plan.nodes:
        if node.offering.endswith("/spot"):
            assert db.name not in node.pods
            spot_by_pool[node.offering] += node.pods.get(web.name, 0)
    assert sum(spot_by_pool.values()) <= 9
    assert max(spot_by_pool.values()) <= 4
    if exact_max_pods:  # 8 web pods on two spot pools, 4 web + 4 db on two on-demand nodes
        assert plan.status == "optimal"
        assert plan.hourly_cost == pytest.approx(0.2 * 2 + 0.05 + 0.06)


def test_spot_not_allowed_means_on_demand_only() -> None:
    api = Workload(name="w/Deployment/api", replicas=5, cpu_m=500, memory_mib=500)
    problem = PlanProblem(workloads=[api], offerings=OFFERINGS)
    plan = plan_nodes(problem, effort=0.25)
    assert all(n.offering == "a/on-demand" for n in plan.nodes)
