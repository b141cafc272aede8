"""Workloads capped per node with a spot share: their replicas beyond the spot cap need on-demand nodes of
their own, in the configuration LP's bound and in the pattern MILP; counts the MILP picks that still cannot
be built leave a partial plan to complete."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes
from tools.cost.plan.configuration import Pattern, PodClass, pod_classes, solve_configuration
from tools.cost.plan.heuristic import place_leftovers
from tools.cost.plan.patterns import solve_patterns
from verifiers.cost import Offering, PlanProblem, Workload, validate_plan
from verifiers.cost.configuration import certified_configuration_bound

ON_DEMAND = Offering(instance_type="n", cpu_m=3000, memory_mib=8192, usd_per_hour=1.0)
SPOT = Offering(
    instance_type="n",
    capacity_type="spot",
    cpu_m=3000,
    memory_mib=8192,
    usd_per_hour=0.3,
    interruption_bucket=1,
)


def _spread(name: str, replicas: int, share: float = 0.5) -> Workload:
    """One pod a node, at most `share` of them on spot."""
    return Workload(
        name=f"ns/Deployment/{name}",
        namespace="ns",
        replicas=replicas,
        cpu_m=1000,
        memory_mib=1024,
        max_per_node=1,
        spot_allowed=True,
        max_spot_share=share,
    )


def test_replicas_beyond_the_spot_cap_need_on_demand_nodes(
    brute_force: Callable[[PlanProblem], float],
) -> None:
    # a: 4 pods on 4 nodes, at most 2 on spot, so 2 on-demand nodes (2.0) and 2 spot ones (0.6); b and c
    # (2 pods each) fit beside it. Counting a's nodes and the class's spot pods alone, an LP spreads a over
    # spot and on-demand nodes in any mix: 2.133.
    problem = PlanProblem(
        workloads=[_spread("a", 4), _spread("b", 2), _spread("c", 2)], offerings=[ON_DEMAND, SPOT]
    )
    assert brute_force(problem) == pytest.approx(2.6)
    cfg = solve_configuration(problem, set(), [])
    assert any(row.on_demand for row in cfg.classes[0].spread)
    assert cfg.bound == pytest.approx(2.6, rel=1e-3)
    # the verifier proves it from the certificate alone (a's spot-share price carries the row's)
    assert certified_configuration_bound(problem, cfg.certificate) == pytest.approx(2.6, rel=1e-3)
    plan = plan_nodes(problem)
    assert validate_plan(problem, plan).ok
    assert plan.hourly_cost == pytest.approx(2.6) and plan.status == "optimal"


def test_the_bound_never_passes_the_brute_force_optimum(brute_force: Callable[[PlanProblem], float]) -> None:
    rows = 0
    for seed in range(12):
        rng = random.Random(seed)
        works = [
            Workload(
                name=f"ns/Deployment/w{i}",
                namespace="ns",
                replicas=rng.choice([2, 3, 4]),
                cpu_m=cpu,
                memory_mib=1024,
                max_per_node=1,
                spot_allowed=rng.random() < 0.8,
                max_spot_share=rng.choice([0.25, 0.5]),
                min_spot_pools=rng.choice([1, 2]),
            )
            for i, cpu in enumerate([1000, 800, 1500][: rng.choice([2, 3])])
        ]
        while sum(w.replicas for w in works) > 8:
            works.pop()
        offerings = [
            ON_DEMAND,
            SPOT,
            ON_DEMAND.model_copy(update={"instance_type": "k", "cpu_m": 2000, "usd_per_hour": 0.7}),
            SPOT.model_copy(update={"instance_type": "k", "cpu_m": 2000, "usd_per_hour": 0.2}),
        ]
        problem = PlanProblem(workloads=works, offerings=offerings)
        cfg = solve_configuration(problem, set(), [])
        rows += sum(1 for c in cfg.classes for row in c.spread if row.on_demand)
        certified = certified_configuration_bound(problem, cfg.certificate)
        assert certified <= brute_force(problem) + 1e-9
        assert certified == pytest.approx(cfg.bound, rel=1e-3)
    assert rows  # the on-demand rows were there to be priced


def test_counts_that_cannot_be_built_leave_a_partial_plan_to_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without node-count rows the MILP packs the class as if its pods were interchangeable (a, 6 pods one a
    # node, beside b and c, 4 each): the counts it picks cannot be built. With `partial` the plan is what they
    # hold, the rest left over; placing that first-fit then completes a plan that keeps every rule.
    monkeypatch.setattr(PodClass, "spread", property(lambda self: ()))
    problem = PlanProblem(
        workloads=[_spread("a", 6), _spread("b", 4), _spread("c", 4)], offerings=[ON_DEMAND, SPOT]
    )
    classes = pod_classes(problem, set())
    patterns = [Pattern(o, ((0, n),)) for o in (ON_DEMAND, SPOT) for n in (1, 2, 3)]
    assert solve_patterns(classes, patterns, 100) is None
    found = solve_patterns(classes, patterns, 100, partial=True)
    assert found is not None and found.leftover and not found.optimal
    held = sum(n.pods for n in found.nodes)
    assert held + sum(found.leftover.values()) == 14 and held < 14
    assert place_leftovers(problem, found.nodes, found.leftover)
    for w in problem.workloads:
        assert sum(n.counts.get(w.name, 0) for n in found.nodes) == w.replicas
        assert all(n.counts.get(w.name, 0) <= 1 for n in found.nodes)
        on_spot = sum(n.counts.get(w.name, 0) for n in found.nodes if n.offering.capacity_type == "spot")
        assert on_spot <= w.max_spot_cap()
