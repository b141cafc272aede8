"""Small instances: the planner's optimum equals a brute-force optimum, and its bound is tight."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes
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
