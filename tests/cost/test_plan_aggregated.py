"""The aggregated MILP (integer node and pod counts per offering, per-size rows): a valid lower bound that
the per-size rows make tighter, and the plans built from it stay feasible."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes, solve_relaxation
from verifiers.cost import Offering, PlanProblem, Workload, validate_plan


@pytest.mark.parametrize("seed", range(6))
def test_aggregated_bound_never_exceeds_the_brute_force_optimum(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(seed + 200, pods=6)
    agg = solve_relaxation(problem, integer_nodes=True, integer_pods=True, rel_gap=1e-9)
    lp = solve_relaxation(problem)
    optimum = brute_force(problem)
    assert agg.dual_bound <= optimum + 1e-9
    assert lp.certified <= agg.dual_bound + 1e-9  # integer counts never weaken the LP relaxation
    # the aggregated solution uses whole pods
    assert all(abs(z - round(z)) < 1e-6 for z in agg.placement.values())


def _one_type(pods: int, cpu_m: int) -> PlanProblem:
    node = Offering(instance_type="n", cpu_m=4000, memory_mib=16384, usd_per_hour=0.2)
    work = Workload(name="ns/Deployment/big", replicas=pods, cpu_m=cpu_m, memory_mib=1024)
    return PlanProblem(workloads=[work], offerings=[node])


def test_size_rows_count_pods_a_node_cannot_share() -> None:
    # three 2.1-core pods on 4-core nodes: 6.3 cores fit two nodes by capacity, but each needs its own node
    problem = _one_type(3, 2100)
    agg = solve_relaxation(problem, integer_nodes=True, integer_pods=True, rel_gap=1e-9)
    divisible = solve_relaxation(problem, integer_nodes=True, rel_gap=1e-9)
    assert divisible.dual_bound == pytest.approx(0.4)
    assert agg.dual_bound == pytest.approx(0.6)
    plan = plan_nodes(problem, effort=0.25)
    assert plan.status == "optimal" and plan.hourly_cost == pytest.approx(0.6)
    assert len(plan.nodes) == 3 and validate_plan(problem, plan).ok
