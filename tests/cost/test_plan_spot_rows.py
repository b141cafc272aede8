"""Workloads capped per node with a spot share: their replicas beyond the spot cap need on-demand nodes of
their own, in the configuration LP's bound, in the pattern MILP and in the min-cut rows it adds."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes
from tools.cost.plan.configuration import NodeCount, Pattern, PodClass, pod_classes, solve_configuration
from tools.cost.plan.patterns import _build, _cuts, solve_patterns
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


def _one_class() -> tuple[list[PodClass], list[Pattern]]:
    problem = PlanProblem(
        workloads=[_spread("a", 6), _spread("b", 4), _spread("c", 4)], offerings=[ON_DEMAND, SPOT]
    )
    classes = pod_classes(problem, set())
    assert len(classes) == 1
    patterns = [Pattern(o, ((0, n),)) for o in (ON_DEMAND, SPOT) for n in (1, 2, 3)]
    return classes, patterns


def test_a_min_cut_row_holds_for_every_plan_that_can_be_built() -> None:
    classes, patterns = _one_class()

    def held(row: NodeCount, counts: tuple[int, ...]) -> int:
        return sum(
            n * min(dict(p.counts).get(0, 0), row.cap_on(p.offering.capacity_type == "spot"))
            for p, n in zip(patterns, counts, strict=True)
        )

    every = list(itertools.product(range(4), repeat=len(patterns)))
    buildable = [c for c in every if _build(classes, patterns, list(c)) is not None]
    rows: set[NodeCount] = set()
    for counts in every:
        cuts = _cuts(classes, patterns, list(counts))
        if counts in buildable:
            assert not cuts
        for _, row in cuts:
            assert held(row, counts) < row.need  # these counts break it
            rows.add(row)
    assert len(rows) >= 5 and any(row.on_demand for row in rows) and buildable
    for row in rows:  # every plan that can be built keeps it
        assert min(held(row, c) for c in buildable) >= row.need


def test_cut_rows_turn_unbuildable_pattern_counts_into_a_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without any node-count rows the MILP packs the class as if its pods were interchangeable: the counts
    # it picks cannot be built. Its min cuts, added one solve at a time, lead to counts that can.
    monkeypatch.setattr(PodClass, "spread", property(lambda self: ()))
    classes, patterns = _one_class()
    assert solve_patterns(classes, patterns, 100) is None
    found = solve_patterns(classes, patterns, 100, max_cuts=10)
    assert found is not None and found.nodes
    problem = PlanProblem(workloads=list(classes[0].workloads), offerings=[ON_DEMAND, SPOT])
    placed = {w.name: sum(n.counts.get(w.name, 0) for n in found.nodes) for w in problem.workloads}
    assert placed == {w.name: w.replicas for w in problem.workloads}
    for w in problem.workloads:
        assert all(n.counts.get(w.name, 0) <= 1 for n in found.nodes)
        assert sum(n.counts.get(w.name, 0) for n in found.nodes if n.offering.capacity_type == "spot") <= (
            w.max_spot_cap()
        )
    # the cheapest such plan: a (6) on 6 nodes, 3 of them spot; b and c 2 + 2 on each side
    assert sum(n.offering.usd_per_hour for n in found.nodes) == pytest.approx(3 * 1.0 + 3 * 0.3)
