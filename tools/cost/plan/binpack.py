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
from verifiers.cost.model import Offering, Workload

__all__ = ["pack_exactly"]

_WEIGHT = 10_000


def pack_exactly(
    offering: Offering,
    demand: dict[str, int],
    by_name: dict[str, Workload],
    bins: int,
    greedy: list[OpenNode],
    time_limit_s: float = 0.5,
) -> list[OpenNode] | None:
    """Nodes of `offering` (at most `bins`) holding as much of `demand` as fits; `demand` is reduced by what
    they hold. None when CP-SAT finds nothing better than `greedy` in time (demand then untouched)."""
    names = [k for k, v in sorted(demand.items()) if v > 0]
    if not names or bins <= 0:
        return None
    o = offering
    weight = {
        k: max(1, round(_WEIGHT * (by_name[k].cpu_m / o.cpu_m + by_name[k].memory_mib / o.memory_mib)))
        for k in names
    }
    m = cp_model.CpModel()
    counts = [{k: m.new_int_var(0, demand[k], f"n[{b},{k}]") for k in names} for b in range(bins)]
    for b, c in enumerate(counts):
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
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value <= greedy_value:
        return None
    nodes: list[OpenNode] = []
    for c in counts:
        node = OpenNode(o)
        for k in names:
            if solver.value(c[k]):
                node.add(by_name[k], solver.value(c[k]))
                demand[k] -= solver.value(c[k])
        if node.pods:
            nodes.append(node)
    return nodes
