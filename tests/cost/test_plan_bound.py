"""The certified lower bound never exceeds any feasible plan, and a forged certificate cannot lie."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools.cost.plan import karpenter_style_plan, plan_nodes, solve_relaxation
from verifiers.cost import (
    BoundCertificate,
    PlanProblem,
    certified_configuration_bound,
    certified_lower_bound,
    validate_plan,
)


@pytest.mark.parametrize("seed", range(6))
def test_bound_below_every_feasible_plan(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(seed + 100, pods=6)
    relax = solve_relaxation(problem)
    optimum = brute_force(problem)
    baseline = karpenter_style_plan(problem)
    assert validate_plan(problem, baseline).ok
    assert relax.certified <= optimum + 1e-9
    assert relax.certified <= baseline.hourly_cost + 1e-9
    # the certificate re-derives the LP optimum: the dual signs are read correctly
    assert relax.certified == pytest.approx(relax.objective, rel=1e-6)


def test_large_plan_states_a_certified_gap(make_problem: Callable[..., PlanProblem]) -> None:
    problem = make_problem(7, pods=150)
    plan = plan_nodes(problem, effort=0.25, exact_max_pods=0)
    assert plan.bound_source in ("lp-dual", "milp-bound", "configuration-lp", "branch-and-price")
    assert plan.certificate is not None
    certified = certified_lower_bound(problem, plan.certificate)
    assert certified <= plan.lower_bound + 1e-9 <= plan.hourly_cost + 2e-9
    if plan.bound_source == "lp-dual":
        assert plan.lower_bound == pytest.approx(certified)
    if plan.bound_source == "configuration-lp":
        assert plan.configuration_certificate is not None
        proven = certified_configuration_bound(problem, plan.configuration_certificate)
        assert plan.lower_bound == pytest.approx(min(proven, plan.hourly_cost))
    if plan.bound_source == "branch-and-price":  # raised from the configuration LP's, which it still carries
        assert plan.configuration_certificate is not None
        proven = certified_configuration_bound(problem, plan.configuration_certificate)
        assert proven * (1 - 1e-6) <= plan.lower_bound
    assert 0.0 <= plan.gap < 0.5
    assert plan.lower_bound <= karpenter_style_plan(problem).hourly_cost


def test_forged_certificate_proves_no_more_than_the_truth(
    make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(3, pods=5)
    forged = BoundCertificate(resource_prices={o.name: (1.0, 1.0, 100.0) for o in problem.offerings})
    assert certified_lower_bound(problem, forged) <= brute_force(problem) + 1e-9


def test_validator_rejects_an_overstated_bound(make_problem: Callable[..., PlanProblem]) -> None:
    problem = make_problem(4, pods=8)
    plan = plan_nodes(problem, effort=0.25, exact_max_pods=0)
    lying = plan.model_copy(update={"lower_bound": plan.hourly_cost * 0.999999, "bound_source": "lp-dual"})
    if plan.certificate is not None and certified_lower_bound(problem, plan.certificate) < lying.lower_bound:
        assert not validate_plan(problem, lying).ok
    too_high = plan.model_copy(update={"lower_bound": plan.hourly_cost * 1.5})
    assert any("lower_bound" in e for e in validate_plan(problem, too_high).errors)
