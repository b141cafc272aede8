"""The configuration LP: its certified bound sits between the resource LP and the optimum, a forged
certificate proves no more than the truth, and the plans built from its patterns are feasible (or optimal)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools.cost.plan import karpenter_style_plan, plan_nodes, solve_relaxation
from tools.cost.plan.configuration import solve_configuration
from tools.cost.plan.exact_patterns import solve_by_patterns
from tools.cost.plan.packing import OpenNode, open_nodes
from tools.cost.plan.patterns import solve_patterns
from verifiers.cost import (
    ConfigurationCertificate,
    Offering,
    Plan,
    PlanProblem,
    Workload,
    certified_configuration_bound,
    validate_plan,
)


def _as_plan(nodes: list[OpenNode]) -> Plan:
    cost = sum(n.offering.usd_per_hour for n in nodes)
    return Plan(nodes=[n.to_planned() for n in nodes], hourly_cost=cost, lower_bound=0.0,
                bound_source="none", status="feasible", solver="test")  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_bound_between_resource_lp_and_brute_force_optimum(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(seed + 300, pods=6)
    cfg = solve_configuration(problem, set(), [])
    assert cfg.converged
    certified = certified_configuration_bound(problem, cfg.certificate)
    optimum = brute_force(problem)
    assert certified <= optimum + 1e-9
    assert certified == pytest.approx(cfg.bound, rel=1e-3)  # the verifier re-derives what the planner found
    # whole pods: never weaker than the resource LP (up to the knapsacks' stated 0.03% tolerance)
    assert certified >= solve_relaxation(problem).certified * (1 - 3e-4)


def test_whole_pods_make_the_bound_tighter_than_the_resource_lp() -> None:
    # 1,930m nodes hold one 1,000m pod each: the resource LP sees 1.93 pods of room, the patterns one
    node = Offering(instance_type="n", cpu_m=1930, memory_mib=8192, usd_per_hour=0.1)
    web = Workload(name="ns/Deployment/web", replicas=10, cpu_m=1000, memory_mib=512)
    problem = PlanProblem(workloads=[web], offerings=[node])
    cfg = solve_configuration(problem, set(), [])
    assert solve_relaxation(problem).certified == pytest.approx(10 / 1.93 * 0.1, rel=1e-6)
    assert certified_configuration_bound(problem, cfg.certificate) == pytest.approx(1.0, rel=1e-3)
    plan = plan_nodes(problem, effort=0.25)
    assert plan.status == "optimal" and plan.hourly_cost == pytest.approx(1.0)


@pytest.mark.parametrize("price", [0.05, 1.0, 100.0])
def test_forged_certificate_is_scaled_down_never_above_the_optimum(
    price: float, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(5, pods=6)
    optimum = brute_force(problem)
    forged = ConfigurationCertificate(pod_prices={w.name: price for w in problem.workloads})
    proven = certified_configuration_bound(problem, forged)
    assert 0.0 < proven <= optimum + 1e-9  # inflated prices still prove something, scaled (Farley)
    negative = ConfigurationCertificate(
        pod_prices={w.name: -price for w in problem.workloads},
        spot_share_prices={w.name: -1.0 for w in problem.workloads},
    )
    assert certified_configuration_bound(problem, negative) == 0.0


def test_validator_rejects_a_bound_its_configuration_certificate_does_not_prove(
    make_problem: Callable[..., PlanProblem],
) -> None:
    problem = make_problem(8, pods=6)
    plan = plan_nodes(problem, effort=0.25, exact_max_pods=0)
    weak = ConfigurationCertificate(pod_prices={w.name: 1e-4 for w in problem.workloads})
    lying = plan.model_copy(update={"bound_source": "configuration-lp", "configuration_certificate": weak,
                                    "lower_bound": plan.hourly_cost * 0.99})  # fmt: skip
    assert any("configuration certificate proves" in e for e in validate_plan(problem, lying).errors)
    missing = lying.model_copy(update={"configuration_certificate": None})
    assert any("needs its certificate" in e for e in validate_plan(problem, missing).errors)


@pytest.mark.parametrize("seed", range(5))
def test_pattern_proof_matches_brute_force(
    seed: int, make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    problem = make_problem(seed + 400, pods=6)
    cfg = solve_configuration(problem, set(), [])
    start = karpenter_style_plan(problem)
    proof = solve_by_patterns(cfg, problem.offerings, open_nodes(problem, start))
    assert proof is not None
    optimum = brute_force(problem)
    found = _as_plan(proof.nodes)
    assert validate_plan(problem, found).ok  # spot share and pool caps honoured
    assert proof.bound <= optimum + 1e-9 <= found.hourly_cost + 2e-9
    if proof.bound >= found.hourly_cost * (1 - 1e-9):
        assert found.hourly_cost == pytest.approx(optimum, abs=1e-9)


def test_pattern_plans_honour_spot_caps() -> None:
    offerings = [
        Offering(instance_type=t, capacity_type=ct, cpu_m=3900, memory_mib=15000, usd_per_hour=p)
        for t, ct, p in [
            ("a", "on-demand", 0.2),
            ("a", "spot", 0.05),
            ("b", "spot", 0.06),
            ("c", "spot", 0.07),
        ]
    ]
    web = Workload(name="w/Deployment/web", replicas=12, cpu_m=900, memory_mib=1000,
                   spot_allowed=True, max_spot_share=0.75, min_spot_pools=3)  # fmt: skip
    api = Workload(name="w/Deployment/api", replicas=5, cpu_m=900, memory_mib=1000,
                   spot_allowed=True, max_spot_share=0.4, min_spot_pools=2)  # fmt: skip
    db = Workload(name="w/StatefulSet/db", replicas=4, cpu_m=900, memory_mib=1000)
    problem = PlanProblem(workloads=[web, api, db], offerings=offerings)
    cfg = solve_configuration(problem, set(), [])
    found = solve_patterns(cfg.classes, cfg.patterns, max_nodes=5_000)
    assert found is not None
    check = validate_plan(problem, _as_plan(found.nodes))
    assert check.ok, check.errors
    plan = plan_nodes(problem, effort=0.5)
    assert plan.status == "optimal" and validate_plan(problem, plan).ok
    # pool a: 4 web + 2 api on two nodes, pool b: 4 web; the other 11 pods on three on-demand nodes
    assert plan.hourly_cost == pytest.approx(2 * 0.05 + 0.06 + 3 * 0.2)


def test_pod_larger_than_every_offering_stays_unplaceable_with_the_configuration_bound() -> None:
    small = Offering(instance_type="s", cpu_m=2000, memory_mib=4096, usd_per_hour=0.1)
    giant = Workload(name="ml/Deployment/trainer", replicas=2, cpu_m=64000, memory_mib=1024)
    web = Workload(name="ml/Deployment/web", replicas=7, cpu_m=600, memory_mib=512)
    problem = PlanProblem(workloads=[giant, web], offerings=[small])
    plan = plan_nodes(problem, effort=0.25)
    assert plan.unplaceable == {giant.name: 2}
    assert validate_plan(problem, plan).ok
    assert plan.hourly_cost == pytest.approx(0.3)  # three 600m pods per 2,000m node: 3 nodes
    cfg = solve_configuration(problem, {giant.name}, [])
    assert [w.name for c in cfg.classes for w in c.workloads] == [web.name]
    assert certified_configuration_bound(problem, cfg.certificate) == pytest.approx(7 / 3 * 0.1, rel=1e-3)


def _one_per_node(name: str, replicas: int) -> Workload:
    return Workload(name=f"ns/Deployment/{name}", namespace="ns", replicas=replicas, cpu_m=1000,
                    memory_mib=1024, max_per_node=1)  # fmt: skip


def test_a_one_per_node_workload_needs_its_own_nodes_in_the_bound_and_the_plan() -> None:
    # One class (same size, same offerings) of 1 + 1 + 3 one-per-node pods; a node holds 3 such pods. The
    # class alone would put 5 pods on 2 nodes (bound 5/3); the 3-replica workload needs 3 nodes.
    node = Offering(instance_type="n", cpu_m=3000, memory_mib=8192, usd_per_hour=1.0)
    problem = PlanProblem(
        workloads=[_one_per_node("a", 1), _one_per_node("b", 1), _one_per_node("c", 3)], offerings=[node]
    )
    cfg = solve_configuration(problem, set(), [])
    assert cfg.bound == pytest.approx(3.0, rel=1e-3)
    # the verifier proves it from the certificate's per-workload prices alone
    assert certified_configuration_bound(problem, cfg.certificate) == pytest.approx(3.0, rel=1e-3)
    found = solve_patterns(cfg.classes, cfg.patterns, 100)
    assert found is not None and len(found.nodes) == 3  # a pattern plan that can be built
    plan = plan_nodes(problem)
    assert validate_plan(problem, plan).ok
    assert plan.hourly_cost == pytest.approx(3.0) and plan.status == "optimal"


def test_node_count_rows_keep_the_bound_below_the_brute_force_optimum(
    make_problem: Callable[..., PlanProblem], brute_force: Callable[[PlanProblem], float]
) -> None:
    for seed in range(400, 412):
        problem = make_problem(seed, pods=7, rules=True)
        cfg = solve_configuration(problem, set(), [])
        certified = certified_configuration_bound(problem, cfg.certificate)
        assert certified <= brute_force(problem) + 1e-9
        assert certified == pytest.approx(cfg.bound, rel=1e-3)
