"""Plan nodes: the cheapest node multiset and pod placement, with a proven lower bound and its gap.

Small problems (at most `exact_max_pods` pods) are solved with CP-SAT, started from the heuristic's plan;
larger ones get the LP-guided heuristic. Every plan carries the best proven bound: CP-SAT's own (optimal or
its objective bound) or the relaxation's, re-derived from the dual certificate. Every plan is validated by
`verifiers.cost.validate_plan` before it is returned; an invalid one raises PlanRejectedError.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from tools.cost.plan.baseline import karpenter_style_plan
from tools.cost.plan.configuration import (
    ConfigurationLP,
    dual_objective,
    fixing,
    pod_classes,
    solve_configuration,
)
from tools.cost.plan.exact import solve_exact
from tools.cost.plan.exact_patterns import solve_by_patterns
from tools.cost.plan.heuristic import pack_guided
from tools.cost.plan.neighbourhood import improve_on_demand
from tools.cost.plan.packing import OpenNode, placeable_problem
from tools.cost.plan.patterns import solve_patterns
from tools.cost.plan.relaxation import solve_relaxation
from verifiers.cost.configuration import certified_configuration_bound
from verifiers.cost.model import BoundSource, ConfigurationCertificate, Offering, Plan, PlanProblem
from verifiers.cost.validate import validate_plan

__all__ = ["PlanRejectedError", "plan_nodes", "prune_dominated"]


# Pod classes (sizes x allowed offerings) beyond which the configuration LP is not tried.
_MAX_CLASSES = 60


class PlanRejectedError(RuntimeError):
    """The validator found the plan infeasible; `errors` says where."""

    def __init__(self, errors: list[str]):
        super().__init__("plan rejected by the validator: " + "; ".join(errors[:5]))
        self.errors = errors


def prune_dominated(problem: PlanProblem) -> PlanProblem:
    """Drop offerings another one beats on every count (capacity and price) for every workload that allows
    them. Exactness is kept: a node of a dropped offering can always be swapped for its dominator."""
    works = [w for w in problem.workloads if w.replicas]
    pool_bound = any(w.pool_cap() < w.replicas for w in works if w.spot_allowed)
    allowed = {
        o.name: frozenset(w.name for w in works if w.allows(o) and w.fits(o)) for o in problem.offerings
    }

    def beats(a: Offering, b: Offering) -> bool:
        ge = a.cpu_m >= b.cpu_m and a.memory_mib >= b.memory_mib and a.max_pods >= b.max_pods
        return (
            ge
            and a.capacity_type == b.capacity_type
            and a.usd_per_hour <= b.usd_per_hour
            and allowed[a.name] >= allowed[b.name]
            and (a.usd_per_hour, a.name) < (b.usd_per_hour, b.name)
        )

    keep = [
        b
        for b in problem.offerings
        if allowed[b.name]
        and ((b.capacity_type == "spot" and pool_bound) or not any(beats(a, b) for a in problem.offerings))
    ]
    return PlanProblem(workloads=problem.workloads, offerings=keep)


def _cost(nodes: list[OpenNode]) -> float:
    return sum(n.offering.usd_per_hour for n in nodes)


@dataclass
class _Best:
    nodes: list[OpenNode]
    bound: float
    source: BoundSource
    solver: str
    optimal: bool = False
    configuration: ConfigurationCertificate | None = None


def _aggregate_restricted(
    problem: PlanProblem, best: _Best, lost: set[str], used: set[str], time_limit_s: float
) -> None:
    """Plans only: the aggregated MILP (whole pods) over the offerings the integer-node MILP chose, packed
    node by node; it rounds no pods, so fewer are left over. Its bound, over a subset, proves nothing."""
    sub = PlanProblem(workloads=problem.workloads, offerings=[o for o in problem.offerings if o.name in used])
    if any(w.replicas and w.name not in lost and not any(w.allows(o) and w.fits(o) for o in sub.offerings)
           for w in problem.workloads):  # fmt: skip
        return
    try:
        guide = solve_relaxation(
            sub, lost, integer_nodes=True, integer_pods=True, time_limit_s=time_limit_s, rel_gap=1e-3
        )
    except RuntimeError:
        return
    packed = pack_guided(problem, guide, lost)
    if _cost(packed) < _cost(best.nodes) - 1e-9:
        best.nodes = packed


def _improve_large(
    problem: PlanProblem, best: _Best, lost: set[str], start: float, time_limit_s: float
) -> None:
    """The configuration LP (bound and price-and-branch plan), MILP-guided packing (integer node counts), then
    large-neighbourhood search until the deadline."""
    _configuration(problem, best, lost, min(6.0, time_limit_s * 0.2), min(4.0, time_limit_s * 0.12))
    try:
        guide = solve_relaxation(problem, lost, integer_nodes=True, time_limit_s=min(10.0, time_limit_s / 3))
    except RuntimeError:
        guide = None  # no MILP incumbent in time: keep the LP-guided plan
    if guide is not None:
        rounded = pack_guided(problem, guide, lost)
        if _cost(rounded) < _cost(best.nodes):
            best.nodes = rounded
        if guide.dual_bound > best.bound * (1 + 1e-9):  # integer node counts: a stronger relaxation
            best.bound, best.source = guide.dual_bound, "milp-bound"
        if sum(w.replicas for w in problem.workloads) <= 3000:  # larger: few pods to round, little to win
            _aggregate_restricted(problem, best, lost, set(guide.nodes), min(6.0, time_limit_s / 4))
    best.nodes = improve_on_demand(problem, best.nodes, start + time_limit_s * 0.9)


def _aggregate(problem: PlanProblem, best: _Best, lost: set[str], time_limit_s: float) -> None:
    """The aggregated MILP (integer node and pod counts per offering, capacity summed over an offering's
    nodes): its proven bound is a relaxation's, so a lower bound; its solution, packed node by node, is often
    a better plan, and when it packs at the bound it is optimal. Falls back to integer node counts only."""
    start = time.perf_counter()
    try:
        guide = solve_relaxation(
            problem, lost, integer_nodes=True, integer_pods=True, time_limit_s=time_limit_s, rel_gap=1e-6
        )
        packed = pack_guided(problem, guide, lost, exact_until=time.perf_counter() + 2.0)
        if _cost(packed) < _cost(best.nodes) - 1e-9:
            best.nodes, best.solver = packed, "milp-aggregated"
    except RuntimeError:  # no incumbent in time: integer node counts alone (pods divisible) still bound
        try:
            left = max(1.0, time_limit_s - (time.perf_counter() - start))
            guide = solve_relaxation(problem, lost, integer_nodes=True, time_limit_s=left)
        except RuntimeError:
            return
    if guide.dual_bound > best.bound * (1 + 1e-9):
        best.bound, best.source = min(guide.dual_bound, _cost(best.nodes)), "milp-bound"


def _configuration(
    problem: PlanProblem, best: _Best, lost: set[str], cg_s: float, milp_s: float
) -> ConfigurationLP | None:
    """The configuration LP over the non-dominated offerings: its certified bound (re-derived by the
    verifier over every offering), then the pattern MILP over its columns (price and branch) as a plan.
    Skipped with more than _MAX_CLASSES pod classes: a pricing round then takes longer than its budget."""
    if len(pod_classes(problem, lost)) > _MAX_CLASSES:
        return None
    try:
        cfg = solve_configuration(prune_dominated(problem), lost, best.nodes, cg_s)
    except RuntimeError:
        return None
    certified = certified_configuration_bound(problem, cfg.certificate)
    if certified > best.bound * (1 + 1e-9):
        best.bound, best.source, best.configuration = certified, "configuration-lp", cfg.certificate
    if _cost(best.nodes) > best.bound * (1 + 1e-9) and milp_s > 0.2:
        found = solve_patterns(cfg.classes, cfg.patterns, milp_s, rel_gap=1e-4)
        if found is not None and not found.infeasible and _cost(found.nodes) < _cost(best.nodes) - 1e-9:
            best.nodes, best.solver = found.nodes, "configuration-milp"
    return cfg


def _solve_small(
    problem: PlanProblem, best: _Best, lost: set[str], start: float, time_limit_s: float
) -> None:
    """Exact: CP-SAT, warm-started from the better of the heuristic and the Karpenter-style plan."""
    base = karpenter_style_plan(problem)
    offerings = problem.offering_by_name()
    by_name = problem.workload_by_name()
    if base.hourly_cost < _cost(best.nodes) and not validate_plan(problem, base).errors:
        best.nodes = []
        for pn in base.nodes:
            node = OpenNode(offerings[pn.offering])
            for name, n in pn.pods.items():
                node.add(by_name[name], n)
            best.nodes.append(node)
    if _cost(best.nodes) <= best.bound * (1 + 1e-9):
        return
    cfg = _configuration(problem, best, lost, min(5.0, time_limit_s * 0.2), min(1.5, time_limit_s * 0.06))
    if _cost(best.nodes) <= best.bound * (1 + 1e-9):
        return
    if cfg is not None:
        left = time_limit_s * 0.25 - (time.perf_counter() - start)  # few patterns: proven fast; else CP-SAT
        proof = solve_by_patterns(
            cfg, prune_dominated(problem).offerings, best.nodes, left, max_patterns=3000
        )
        if proof is not None:
            if _cost(proof.nodes) < _cost(best.nodes) - 1e-9:
                best.nodes, best.solver = proof.nodes, "configuration-milp"
            if proof.bound > best.bound:
                best.bound, best.source = min(proof.bound, _cost(best.nodes)), "pattern-milp"
            if _cost(best.nodes) <= best.bound * (1 + 1e-9):
                best.optimal = True
                return
    _aggregate(problem, best, lost, min(3.0, time_limit_s * 0.12))
    if _cost(best.nodes) <= best.bound * (1 + 1e-9):
        return
    budget = max(1.0, time_limit_s * 0.9 - (time.perf_counter() - start))
    pruned = prune_dominated(problem)
    guide = solve_relaxation(pruned, lost)
    values = None
    if cfg is not None:  # the configuration LP's prices fix far more slots than the resource LP's
        rcs, values = fixing(cfg, pruned.offerings)
        guide = replace(guide, objective=dual_objective(cfg.classes, cfg.duals), node_reduced_costs=rcs)
    exact = solve_exact(pruned, lost, best.nodes, best.bound, budget, guide, values)
    if exact.nodes is None:
        return  # UNKNOWN: proves nothing, the heuristic plan stands
    best.solver = "cp-sat"
    if _cost(exact.nodes) <= _cost(best.nodes) + 1e-9:
        best.nodes = exact.nodes
    if exact.optimal:
        best.bound, best.source, best.optimal = _cost(best.nodes), "cp-sat-optimal", True
    elif exact.bound > best.bound:
        best.bound, best.source = exact.bound, "cp-sat-bound"


def plan_nodes(problem: PlanProblem, time_limit_s: float = 20.0, exact_max_pods: int = 100) -> Plan:
    """The plan, validated, with its proven lower bound. Pods the constraints leave without a node are
    reported with the constraint that cannot be met; the rest is planned."""
    start = time.perf_counter()
    original = problem
    problem, lost, reasons = placeable_problem(problem)
    pods = sum(w.replicas for w in problem.workloads)
    relax = solve_relaxation(problem)
    best = _Best(pack_guided(problem, relax, set()), relax.certified, "lp-dual", "lp-guided-ffd")
    if pods and pods <= exact_max_pods:
        _solve_small(problem, best, set(), start, time_limit_s)
    elif pods:
        _improve_large(problem, best, set(), start, time_limit_s)
    nodes, bound, source, solver, optimal = best.nodes, best.bound, best.source, best.solver, best.optimal
    placed: dict[str, int] = {}
    for node in nodes:
        for name, n in node.counts.items():
            placed[name] = placed.get(name, 0) + n
    for w in problem.workloads:  # a packing that left pods over is a bug the validator reports
        if placed.get(w.name, 0) < w.replicas:
            lost[w.name] = lost.get(w.name, 0) + w.replicas - placed.get(w.name, 0)
    cost = _cost(nodes)
    if cost <= bound * (1 + 1e-9):
        optimal = True
    plan = Plan(
        nodes=[n.to_planned() for n in sorted(nodes, key=lambda n: (n.offering.name, -n.pods))],
        unplaceable=lost,
        unplaceable_reasons=reasons,
        hourly_cost=cost,
        lower_bound=min(bound, cost),
        bound_source=source,
        status="optimal" if optimal else "feasible",
        solver=solver,
        solve_seconds=time.perf_counter() - start,
        certificate=relax.certificate,
        configuration_certificate=best.configuration,
    )
    check = validate_plan(original, plan)
    if not check.ok:
        raise PlanRejectedError(check.errors)
    return plan
