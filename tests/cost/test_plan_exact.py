"""Small instances: the planner's optimum equals a brute-force optimum, and its bound is tight."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes
from tools.cost.plan.exact import solve_exact
from verifiers.cost import PlanProblem, validate_plan


@pytest.mark.parametrize("seed", range(8))
def test_exact_plan_matches_brute_force(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(seed, pods=6)
    plan = plan_nodes(problem, effort=0.5)
    best = brute_force(problem)
    assert plan.status == "optimal"
    assert plan.hourly_cost == pytest.approx(best, abs=1e-9)
    assert plan.lower_bound == pytest.approx(best, abs=1e-9)
    assert plan.gap == pytest.approx(0.0, abs=1e-9)
    assert validate_plan(problem, plan).ok


@pytest.mark.parametrize("seed", range(8))
def test_target_probe_proves_nothing_below_the_optimum(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    """The planner's target probes: a plan at the optimum is found when the target allows it, and a target
    a micro-dollar below is proven out of reach, never claimed reachable; so a bound raised by a probe never
    exceeds the optimum (the planner takes floor(target) in micro-dollars)."""
    problem = make_problem(seed, pods=6)
    best = brute_force(problem)
    at = solve_exact(problem, set(), [], 0.0, 5.0, target=best)
    assert at.nodes is not None and not at.infeasible
    assert sum(n.offering.usd_per_hour for n in at.nodes) == pytest.approx(best, abs=1e-9)
    below = solve_exact(problem, set(), [], 0.0, 5.0, target=best - 1e-6)
    assert below.nodes is None and below.infeasible
    assert math.floor((best - 1e-6) * 1e6) / 1e6 <= best


@pytest.mark.parametrize("seed", range(8))
def test_bound_never_exceeds_the_optimum_with_rules(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    """Whatever proves it (configuration LP, MILP, probes, CP-SAT), the plan's bound is at most the optimum."""
    problem = make_problem(seed + 100, pods=7, rules=True)
    plan = plan_nodes(problem, effort=0.5)
    assert plan.lower_bound <= brute_force(problem) + 1e-9
    assert validate_plan(problem, plan).ok
