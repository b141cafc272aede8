"""Exact node planning with CP-SAT for small problems.

Each candidate offering gets a fixed number of node slots (bounded by the incumbent's cost and by the pods it
could hold); a slot is open or not and holds an integer count of each workload's pods. With every slot's
offering fixed, capacity, spot-share and spot-pool caps are all linear. Prices are scaled to integer
micro-dollars, which is exact for catalog prices (6 decimals). OPTIMAL means proven optimal; FEASIBLE keeps
CP-SAT's proven objective bound; UNKNOWN proves nothing. The search is limited by deterministic time and
interleaved (`tools.cost.plan.work`), so a busy machine proves exactly what a quiet one does.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from tools.cost.plan.packing import OpenNode
from tools.cost.plan.relaxation import Relaxation
from tools.cost.plan.work import deterministic
from tools.cost.plan.zones import has_zone_rules, names_zone
from verifiers.cost.model import Offering, PlanProblem, Workload
from verifiers.cost.placeable import eligible_zones

__all__ = ["ExactResult", "solve_exact"]

_SCALE = 1_000_000
# The pod values come with a proven cap on a node's worth up to this share (the pricing's tolerance).
_CUT_SLACK = 5e-4


@dataclass
class ExactResult:
    nodes: list[OpenNode] | None
    bound: float
    optimal: bool
    dtime: float = 0.0
    infeasible: bool = False
    """No plan within the model (with a target: none costs at most the target; a proof)."""
    """Deterministic time CP-SAT used."""


def _slots(o: Offering, works: list[Workload], incumbent: float, reduced_cost: float, slack: float) -> int:
    """Most nodes of `o` in a plan no dearer than the incumbent: by price, by pods it could hold, and by LP
    reduced-cost fixing (a plan costs at least the LP optimum + reduced cost x nodes)."""
    pods = sum(w.replicas for w in works if w.allows(o) and w.fits(o))
    by_price = math.floor(incumbent / o.usd_per_hour + 1e-9) if o.usd_per_hour > 0 else pods
    by_rc = math.floor(slack / reduced_cost + 1e-6) if reduced_cost > 1e-9 else pods
    return max(0, min(pods, by_price, by_rc))


@dataclass
class _Slot:
    offering: Offering
    zone: str
    is_open: cp_model.IntVar
    counts: dict[str, cp_model.IntVar]

    @property
    def key(self) -> tuple[str, str]:
        return (self.offering.name, self.zone)


def _add_slots(m: cp_model.CpModel, o: Offering, zone: str, works: list[Workload], n: int,
               pod_values: dict[tuple[str, str], float] | None) -> list[_Slot]:  # fmt: skip
    """`n` identical node slots of offering `o` in `zone`, with capacity, per-node, anti-affinity and value
    cuts, in symmetry-broken order."""
    allowed = [w for w in works if w.allows(o, zone or None) and w.fits(o)]
    slots: list[_Slot] = []
    for k in range(n):
        tag = f"{o.name}@{zone}#{k}"
        is_open = m.new_bool_var(f"open[{tag}]")
        counts = {w.name: m.new_int_var(0, w.per_node(), f"n[{tag},{w.name}]") for w in allowed}
        m.add(sum(w.cpu_m * counts[w.name] for w in allowed) <= o.cpu_m * is_open)
        m.add(
            sum(math.ceil(w.memory_mib * 1000) * counts[w.name] for w in allowed)
            <= math.floor(o.memory_mib * 1000) * is_open
        )
        m.add(sum(counts.values()) <= o.max_pods * is_open)
        m.add(sum(counts.values()) >= is_open)
        by_name = {w.name: w for w in allowed}
        for w in allowed:  # required anti-affinity: never both workloads on one node
            for other in w.separate_from:
                if other in counts:
                    here, there = m.new_bool_var(""), m.new_bool_var("")
                    m.add(counts[w.name] <= w.per_node() * here)
                    m.add(counts[other] <= by_name[other].per_node() * there)
                    m.add(here + there <= 1)
        if pod_values:
            worth = {w.name: math.floor(pod_values.get((w.name, o.name), 0.0) * _SCALE) for w in allowed}
            if any(v > 0 for v in worth.values()):
                m.add(
                    sum(v * counts[name] for name, v in worth.items() if v > 0)
                    <= math.ceil(o.usd_per_hour * _SCALE * (1 + _CUT_SLACK)) * is_open
                )
        if slots:  # identical slots: open ones first (and fuller first, with one workload)
            m.add(slots[-1].is_open >= is_open)
            if len(allowed) == 1:
                m.add(slots[-1].counts[allowed[0].name] >= counts[allowed[0].name])
        slots.append(_Slot(o, zone, is_open, counts))
    return slots


def _zone_rules(m: cp_model.CpModel, problem: PlanProblem, works: list[Workload], slots: list[_Slot]) -> None:
    """Per-zone caps and zone spreads over the slots' zones; zones in a fixed order when they are
    interchangeable (no workload names one)."""
    for w in works:
        count = {
            z: sum(s.counts[w.name] for s in slots if s.zone == z and w.name in s.counts)
            for z in problem.zones
        }
        if w.max_per_zone is not None:
            for z in problem.zones:
                m.add(count[z] <= w.max_per_zone)
        if w.zone_max_skew is not None:
            hosts = [o for o in problem.offerings if w.allows(o) and w.fits(o)]
            low = m.new_int_var(0, w.replicas, f"low[{w.name}]")
            for z in eligible_zones(w, hosts, problem.zones):
                m.add(count[z] >= low)
                m.add(count[z] <= low + w.zone_max_skew)
    if not any(names_zone(w) for w in works):
        opened = [sum(s.is_open for s in slots if s.zone == z) for z in problem.zones]
        for a, b in itertools.pairwise(opened):
            m.add(a >= b)


def solve_exact(
    problem: PlanProblem,
    skip: set[str],
    incumbent: list[OpenNode],
    lower_bound: float,
    dtime: float,
    relaxation: Relaxation | None = None,
    pod_values: dict[tuple[str, str], float] | None = None,
    target: float | None = None,
) -> ExactResult:
    """`relaxation` (the LP of this same problem) lets reduced-cost fixing drop slots no better plan uses.
    `pod_values[(workload, offering)]`: dual values with which no node is worth more than its price (the
    configuration LP's); each slot then gets the valid cut  sum(value * pods) <= price * open. With zone
    rules in the problem, slots are per zone and the rules are constraints (`incumbent` must keep them).
    With `target`, only plans of cost <= target are sought (the slots limited by it): INFEASIBLE then proves
    that none exists (costs are whole micro-dollars)."""
    works = [w for w in problem.workloads if w.replicas and w.name not in skip]
    inc_cost = sum(n.offering.usd_per_hour for n in incumbent)
    if target is not None:  # only plans of cost <= target are sought: the slot limits follow from it
        inc_cost = target
    rcs = relaxation.node_reduced_costs if relaxation else {}
    slack = (inc_cost - relaxation.objective) * (1 + 1e-6) + 1e-9 if relaxation else inc_cost
    zoned = bool(problem.zones) and any(has_zone_rules(w) for w in works)
    m = cp_model.CpModel()
    slots: list[_Slot] = []
    for o in problem.offerings:
        n = _slots(o, works, inc_cost, rcs.get(o.name, 0.0), slack)
        per_zone = [_add_slots(m, o, z, works, n, pod_values) for z in (problem.zones if zoned else [""])]
        if zoned and n:
            m.add(sum(s.is_open for zone_slots in per_zone for s in zone_slots) <= n)
        slots += [s for zone_slots in per_zone for s in zone_slots]
    for w in works:
        m.add(sum(s.counts[w.name] for s in slots if w.name in s.counts) == w.replicas)
        spot = [s for s in slots if w.name in s.counts and s.offering.capacity_type == "spot"]
        if spot:
            m.add(sum(s.counts[w.name] for s in spot) <= w.max_spot_cap())
            for pool in sorted({s.offering.name for s in spot}):  # the model must not depend on hashing
                m.add(sum(s.counts[w.name] for s in spot if s.offering.name == pool) <= w.pool_cap())
    if zoned:
        _zone_rules(m, problem, works, slots)
    cost = sum(round(s.offering.usd_per_hour * _SCALE) * s.is_open for s in slots)
    m.add(cost >= math.floor(lower_bound * _SCALE))
    if target is not None:
        m.add(cost <= math.floor(target * _SCALE))
    m.minimize(cost)
    _hint(m, slots, incumbent, zoned)
    solver = cp_model.CpSolver()
    deterministic(solver, dtime, workers=1)
    solver.parameters.linearization_level = (
        2  # all of the model's cuts in its LP: proofs in a quarter the work
    )
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactResult(None, 0.0, False, solver.deterministic_time, status == cp_model.INFEASIBLE)
    by_name = problem.workload_by_name()
    nodes: list[OpenNode] = []
    for s in slots:
        if solver.value(s.is_open):
            node = OpenNode(s.offering, zone=s.zone)
            for name, var in s.counts.items():
                if solver.value(var):
                    node.add(by_name[name], solver.value(var))
            nodes.append(node)
    return ExactResult(
        nodes, solver.best_objective_bound / _SCALE, status == cp_model.OPTIMAL, solver.deterministic_time
    )


def _hint(m: cp_model.CpModel, slots: list[_Slot], incumbent: list[OpenNode], zoned: bool) -> None:
    """Start from the incumbent: its k-th node of an offering (and zone) fills that one's k-th slot."""
    used: dict[tuple[str, str], int] = {}
    free: dict[tuple[str, str], list[_Slot]] = {}
    for s in slots:
        free.setdefault(s.key, []).append(s)
    fills: dict[int, OpenNode] = {}
    for node in sorted(incumbent, key=lambda n: -n.pods):
        key = (node.offering.name, node.zone if zoned else "")
        k = used.get(key, 0)
        if k < len(free.get(key, [])):
            fills[id(free[key][k])] = node
            used[key] = k + 1
    for s in slots:
        hinted = fills.get(id(s))
        m.add_hint(s.is_open, hinted is not None)
        for name, var in s.counts.items():
            m.add_hint(var, hinted.counts.get(name, 0) if hinted else 0)
