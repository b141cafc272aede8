"""Exact packing of one offering's share of a guide: its pods into its node count, with CP-SAT.

The integer-node relaxation says "y nodes of offering o hold these pods" with capacity summed over the y
nodes; whether they fit node by node is a small bin-packing problem. CP-SAT places as much of the demand as
fits (bigger pods first, by their share of a node), started from the greedy fill; what it cannot place is
left in `demand` for the caller to place elsewhere.
"""

from __future__ import annotations

import math

from ortools.sat.python import cp_model

from tools.cost.plan.packing import OpenNode
from tools.cost.plan.work import deterministic
from verifiers.cost.model import Offering, Workload

__all__ = ["pack_exactly"]

_WEIGHT = 10_000


def pack_exactly(
    offering: Offering,
    demand: dict[str, int],
    by_name: dict[str, Workload],
    bins: int,
    greedy: list[OpenNode],
    dtime: float = 0.5,
) -> tuple[list[OpenNode] | None, float]:
    """Nodes of `offering` (at most `bins`) holding as much of `demand` as fits; `demand` is reduced by what
    they hold. None when CP-SAT finds nothing better than `greedy` within `dtime` deterministic seconds
    (demand then untouched). Also returns the deterministic time it used."""
    names = [k for k, v in sorted(demand.items()) if v > 0]
    if not names or bins <= 0:
        return None, 0.0
    o = offering
    weight = {
        k: max(1, round(_WEIGHT * (by_name[k].cpu_m / o.cpu_m + by_name[k].memory_mib / o.memory_mib)))
        for k in names
    }
    m = cp_model.CpModel()
    cap = {k: min(demand[k], by_name[k].per_node()) for k in names}
    counts = [{k: m.new_int_var(0, cap[k], f"n[{b},{k}]") for k in names} for b in range(bins)]
    for b, c in enumerate(counts):
        for k in names:  # required anti-affinity between workloads: never both on one node
            for other in by_name[k].separate_from:
                if other in c:
                    here, there = m.new_bool_var(""), m.new_bool_var("")
                    m.add(c[k] <= cap[k] * here)
                    m.add(c[other] <= cap[other] * there)
                    m.add(here + there <= 1)
        m.add(sum(by_name[k].cpu_m * c[k] for k in names) <= o.cpu_m)
        m.add(
            sum(math.ceil(by_name[k].memory_mib * 1000) * c[k] for k in names)
            <= math.floor(o.memory_mib * 1000)
        )
        m.add(sum(c.values()) <= o.max_pods)
        if b:  # identical bins: heavier first
            m.add(sum(weight[k] * counts[b - 1][k] for k in names) >= sum(weight[k] * c[k] for k in names))
    for k in names:
        m.add(sum(c[k] for c in counts) <= demand[k])
    placed = sum(weight[k] * c[k] for c in counts for k in names)
    m.maximize(placed)
    ordered = sorted(greedy, key=lambda n: -sum(weight.get(k, 0) * v for k, v in n.counts.items()))
    for b, c in enumerate(counts):
        for k in names:
            m.add_hint(c[k], ordered[b].counts.get(k, 0) if b < len(ordered) else 0)
    greedy_value = sum(weight.get(k, 0) * v for n in greedy for k, v in n.counts.items())
    solver = cp_model.CpSolver()
    deterministic(solver, dtime, workers=1)
    status = solver.solve(m)
    used = solver.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value <= greedy_value:
        return None, used
    nodes: list[OpenNode] = []
    for c in counts:
        node = OpenNode(o)
        for k in names:
            if solver.value(c[k]):
                node.add(by_name[k], solver.value(c[k]))
                demand[k] -= solver.value(c[k])
        if node.pods:
            nodes.append(node)
    return nodes, used
