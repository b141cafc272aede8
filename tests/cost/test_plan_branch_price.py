"""Branch and price on node counts: its bound never passes the optimum, rises above the configuration LP's
where the LP runs a fraction of a node, and is the same on every run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes
from tools.cost.plan.branch_price import branch_and_price
from tools.cost.plan.configuration import solve_configuration
from tools.cost.plan.packing import prune_dominated
from verifiers.cost import Offering, PlanProblem, Workload


@pytest.mark.parametrize("rules", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_bound_never_passes_the_brute_force_optimum(
    seed: int,
    rules: bool,
    make_problem: Callable[..., PlanProblem],
    brute_force: Callable[[PlanProblem], float],
) -> None:
    problem = prune_dominated(make_problem(seed + 500, pods=7, rules=rules))
    optimum = brute_force(problem)
    cfg = solve_configuration(problem, set(), [])
    # a ceiling above the optimum: the optimum is one of the plans the search must keep in view
    found = branch_and_price(cfg, ceiling=optimum * 1.5 + 0.1, max_nodes=300)
    assert cfg.bound * (1 - 1e-9) <= found.bound <= optimum + 1e-7
    if found.closed and not rules:  # searched out: nothing below the bound, and the optimum is a plan
        assert found.bound == pytest.approx(optimum, abs=1e-6)


def _pods(n: int, cpu_m: int) -> Workload:
    return Workload(name="ns/Deployment/a", namespace="ns", replicas=n, cpu_m=cpu_m, memory_mib=256)


def test_a_fractional_node_count_is_rounded_up() -> None:
    # two 1,000m pods a node: the configuration LP runs 1.5 nodes for three pods, a plan needs two
    node = Offering(instance_type="n", cpu_m=2000, memory_mib=8192, usd_per_hour=1.0)
    problem = PlanProblem(workloads=[_pods(3, 1000)], offerings=[node])
    cfg = solve_configuration(problem, set(), [])
    assert cfg.bound == pytest.approx(1.5, rel=1e-3)
    found = branch_and_price(cfg, ceiling=10.0, max_nodes=10)
    assert found.bound == pytest.approx(2.0, abs=1e-6)


def test_the_cheaper_mix_is_found_between_two_sizes() -> None:
    # 5 pods of 1,000m: small nodes hold 2 (0.9 $/h), big ones 4 (1.7 $/h). The LP prices big nodes at
    # 0.425 a pod: 1.25 big nodes, 2.125. Whole nodes: big + small = 2.6, three small = 2.7, two big = 3.4.
    small = Offering(instance_type="s", cpu_m=2000, memory_mib=8192, usd_per_hour=0.9)
    big = Offering(instance_type="b", cpu_m=4000, memory_mib=16384, usd_per_hour=1.7)
    problem = PlanProblem(workloads=[_pods(5, 1000)], offerings=[small, big])
    cfg = solve_configuration(problem, set(), [])
    assert cfg.bound == pytest.approx(2.125, rel=1e-3)
    found = branch_and_price(cfg, ceiling=3.4, max_nodes=50)
    assert found.bound == pytest.approx(2.6, abs=1e-6)
    assert plan_nodes(problem).hourly_cost == pytest.approx(2.6)
    # with that plan in hand as the ceiling, the search closes: nothing cheaper exists
    proof = branch_and_price(cfg, ceiling=2.6, max_nodes=50)
    assert proof.closed and proof.bound == 2.6


def test_a_short_search_proves_no_less_than_the_lp_and_repeats_exactly(
    make_problem: Callable[..., PlanProblem],
) -> None:
    problem = prune_dominated(make_problem(41, pods=150))
    cfg = solve_configuration(problem, set(), [])
    plan = plan_nodes(problem, effort=0.25, exact_max_pods=0)
    runs = [branch_and_price(cfg, plan.hourly_cost, max_nodes=12) for _ in range(2)]
    assert runs[0].bound == runs[1].bound and runs[0].nodes == runs[1].nodes == 12
    assert [p.counts for p in runs[0].patterns] == [p.counts for p in runs[1].patterns]
    assert cfg.bound * (1 - 1e-9) <= runs[0].bound <= plan.hourly_cost
    assert len(runs[0].patterns) >= len(cfg.patterns)


def test_the_planner_states_the_raised_bound(make_problem: Callable[..., PlanProblem]) -> None:
    problem = make_problem(7, pods=150)
    plan = plan_nodes(problem, effort=0.25, exact_max_pods=0)
    assert plan.bound_source == "branch-and-price"
    assert plan.configuration_certificate is not None  # the LP bound it started from, re-checked
    assert plan.lower_bound <= plan.hourly_cost
