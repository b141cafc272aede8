"""Exact node planning with CP-SAT for small problems.

Each candidate offering gets a fixed number of node slots (bounded by the incumbent's cost and by the pods it
could hold); a slot is open or not and holds an integer count of each workload's pods. With every slot's
offering fixed, capacity, spot-share and spot-pool caps are all linear. Prices are scaled to integer
micro-dollars, which is exact for catalog prices (6 decimals). OPTIMAL means proven optimal; FEASIBLE keeps
CP-SAT's proven objective bound; UNKNOWN proves nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from tools.cost.plan.packing import OpenNode
from tools.cost.plan.relaxation import Relaxation
from verifiers.cost.model import Offering, PlanProblem, Workload

__all__ = ["ExactResult", "solve_exact"]

_SCALE = 1_000_000
# The pod values come with a proven cap on a node's worth up to this share (the pricing's tolerance).
_CUT_SLACK = 5e-4


@dataclass
class ExactResult:
    nodes: list[OpenNode] | None
    bound: float
    optimal: bool


def _slots(o: Offering, works: list[Workload], incumbent: float, reduced_cost: float, slack: float) -> int:
    """Most nodes of `o` in a plan no dearer than the incumbent: by price, by pods it could hold, and by LP
    reduced-cost fixing (a plan costs at least the LP optimum + reduced cost x nodes)."""
    pods = sum(w.replicas for w in works if w.allows(o) and w.fits(o))
    by_price = math.floor(incumbent / o.usd_per_hour + 1e-9) if o.usd_per_hour > 0 else pods
    by_rc = math.floor(slack / reduced_cost + 1e-6) if reduced_cost > 1e-9 else pods
    return max(0, min(pods, by_price, by_rc))


def solve_exact(
    problem: PlanProblem,
    skip: set[str],
    incumbent: list[OpenNode],
    lower_bound: float,
    time_limit_s: float,
    relaxation: Relaxation | None = None,
    pod_values: dict[tuple[str, str], float] | None = None,
) -> ExactResult:
    """`relaxation` (the LP of this same problem) lets reduced-cost fixing drop slots no better plan uses.
    `pod_values[(workload, offering)]`: dual values with which no node is worth more than its price (the
    configuration LP's); each slot then gets the valid cut  sum(value * pods) <= price * open."""
    works = [w for w in problem.workloads if w.replicas and w.name not in skip]
    inc_cost = sum(n.offering.usd_per_hour for n in incumbent)
    rcs = relaxation.node_reduced_costs if relaxation else {}
    slack = (inc_cost - relaxation.objective) * (1 + 1e-6) + 1e-9 if relaxation else inc_cost
    m = cp_model.CpModel()
    slots: list[tuple[Offering, cp_model.IntVar, dict[str, cp_model.IntVar]]] = []
    for o in problem.offerings:
        allowed = [w for w in works if w.allows(o) and w.fits(o)]
        prev: tuple[cp_model.IntVar, dict[str, cp_model.IntVar]] | None = None  # the offering's previous slot
        for k in range(_slots(o, works, inc_cost, rcs.get(o.name, 0.0), slack)):
            is_open = m.new_bool_var(f"open[{o.name}#{k}]")
            counts = {w.name: m.new_int_var(0, w.replicas, f"n[{o.name}#{k},{w.name}]") for w in allowed}
            m.add(sum(w.cpu_m * counts[w.name] for w in allowed) <= o.cpu_m * is_open)
            m.add(
                sum(math.ceil(w.memory_mib * 1000) * counts[w.name] for w in allowed)
                <= math.floor(o.memory_mib * 1000) * is_open
            )
            m.add(sum(counts.values()) <= o.max_pods * is_open)
            m.add(sum(counts.values()) >= is_open)
            if pod_values:
                worth = {w.name: math.floor(pod_values.get((w.name, o.name), 0.0) * _SCALE) for w in allowed}
                if any(v > 0 for v in worth.values()):
                    m.add(
                        sum(v * counts[n] for n, v in worth.items() if v > 0)
                        <= math.ceil(o.usd_per_hour * _SCALE * (1 + _CUT_SLACK)) * is_open
                    )
            if prev is not None:  # identical slots: open ones first (and fuller first, with one workload)
                m.add(prev[0] >= is_open)
                if len(allowed) == 1:
                    m.add(prev[1][allowed[0].name] >= counts[allowed[0].name])
            prev = (is_open, counts)
            slots.append((o, is_open, counts))
    for w in works:
        m.add(sum(c[w.name] for _, _, c in slots if w.name in c) == w.replicas)
        spot = [(o, c[w.name]) for o, _, c in slots if w.name in c and o.capacity_type == "spot"]
        if spot:
            m.add(sum(v for _, v in spot) <= w.max_spot_cap())
            for pool in {o.name for o, _ in spot}:
                m.add(sum(v for o, v in spot if o.name == pool) <= w.pool_cap())
    cost = sum(round(o.usd_per_hour * _SCALE) * is_open for o, is_open, _ in slots)
    m.add(cost >= math.floor(lower_bound * _SCALE))
    m.minimize(cost)
    _hint(m, slots, incumbent)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 2
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactResult(None, 0.0, False)
    by_name = problem.workload_by_name()
    nodes: list[OpenNode] = []
    for o, is_open, counts in slots:
        if solver.value(is_open):
            node = OpenNode(o)
            for name, var in counts.items():
                if solver.value(var):
                    node.add(by_name[name], solver.value(var))
            nodes.append(node)
    return ExactResult(nodes, solver.best_objective_bound / _SCALE, status == cp_model.OPTIMAL)


def _hint(
    m: cp_model.CpModel,
    slots: list[tuple[Offering, cp_model.IntVar, dict[str, cp_model.IntVar]]],
    incumbent: list[OpenNode],
) -> None:
    """Start from the incumbent: its k-th node of an offering fills that offering's k-th slot."""
    used: dict[str, int] = {}
    free: dict[str, list[tuple[cp_model.IntVar, dict[str, cp_model.IntVar]]]] = {}
    for o, is_open, counts in slots:
        free.setdefault(o.name, []).append((is_open, counts))
    fills: dict[int, OpenNode] = {}
    for inc in sorted(incumbent, key=lambda n: -n.pods):
        node = inc
        k = used.get(node.offering.name, 0)
        if k < len(free.get(node.offering.name, [])):
            fills[id(free[node.offering.name][k][0])] = node
            used[node.offering.name] = k + 1
    for _, is_open, counts in slots:
        hinted = fills.get(id(is_open))
        m.add_hint(is_open, hinted is not None)
        for name, var in counts.items():
            m.add_hint(var, hinted.counts.get(name, 0) if hinted else 0)
