"""Plans from configuration-LP patterns: an integer pattern MILP (HiGHS), then pods back onto real nodes.

Variables: lambda_p >= 0 integer nodes per pattern; x_w,o >= 0 pods of workload w on spot pool o. Rows:
    sum_w in k x_w,o <= sum_{p on o} a_kp lambda_p          (spot pods of class k fit its room on pool o)
    sum_{p on-demand} a_kp lambda_p + sum_w,o x_w,o >= d_k  (the rest of class k fits on-demand room)
    sum_o x_w,o <= spotcap_w,  x_w,o <= poolcap_w
Given integer lambdas the x-rows form a flow problem, so they are integral at a vertex; the plan is rebuilt
with an exact max flow (OR-Tools) per class. Every real plan is a solution (its nodes are patterns), so over
a complete pattern set the MILP optimum is the true optimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
from ortools.graph.python import max_flow

from tools.cost.plan.configuration import Pattern, PodClass
from tools.cost.plan.packing import OpenNode
from tools.cost.plan.relaxation import quiet_highs

__all__ = ["PatternPlan", "solve_patterns"]


@dataclass
class PatternPlan:
    nodes: list[OpenNode]
    optimal: bool
    """HiGHS proved the MILP optimal (or infeasible) over the given patterns."""
    dual_bound: float
    infeasible: bool = False
    """No plan is made of the given patterns (HiGHS proved it)."""
    leftover: dict[str, int] = field(default_factory=dict)
    """Workload -> pods the nodes could not take (the counts could not be built): the nodes are then a
    partial plan for a packing heuristic to complete."""


def _spot_pairs(classes: list[PodClass], patterns: list[Pattern]) -> list[tuple[int, int, str]]:
    """(class, workload index in class, spot pool) for each x variable."""
    pools: dict[int, set[str]] = {}
    for p in patterns:
        if p.offering.capacity_type == "spot":
            for k, _ in p.counts:
                pools.setdefault(k, set()).add(p.offering.name)
    return [
        (k, i, o)
        for k, c in enumerate(classes)
        for o in sorted(pools.get(k, ()))
        for i, w in enumerate(c.workloads)
        if w.max_spot_cap()
    ]


def solve_patterns(
    classes: list[PodClass],
    patterns: list[Pattern],
    max_nodes: int,
    rel_gap: float = 1e-4,
    cutoff: float | None = None,
    partial: bool = False,
) -> PatternPlan | None:
    """The cheapest plan made of `patterns`; None when HiGHS finds none within `max_nodes` branch-and-bound
    nodes (or none below `cutoff`). The node-count rows are exact only for some sets of workloads, so the
    counts it picks may not be buildable: then None, or with `partial` the plan is what they hold, with the
    rest in `leftover` for a packing heuristic. (Adding each short class's min cut as a row and solving
    again made it buildable in 1-3 more solves, at 7-23 CPU s each for 1,000-10,000 pods, but the plans
    came out no cheaper than the partial plan completed first-fit.)"""
    pairs = _spot_pairs(classes, patterns)
    n_pat = len(patterns)
    room_row = {key: r for r, key in enumerate(sorted({(k, o) for k, _, o in pairs}))}
    cover0 = len(room_row)
    wl_rows = {
        (k, i): cover0 + len(classes) + j for j, (k, i) in enumerate(sorted({(k, i) for k, i, _ in pairs}))
    }
    n_rows = cover0 + len(classes) + len(wl_rows)
    # node-count rows (`PodClass.spread`): sum min(a, its cap on the node's capacity type) >= need
    spread_row: dict[tuple[int, int], int] = {}
    for k, c in enumerate(classes):
        for m in range(len(c.spread)):
            spread_row[(k, m)] = n_rows
            n_rows += 1
    cols: list[tuple[float, float, list[int], list[float]]] = []
    for p in patterns:
        idx, val = [], []
        for k, a in p.counts:
            for m, nc in enumerate(classes[k].spread):
                if cap := nc.cap_on(p.offering.capacity_type == "spot"):
                    idx.append(spread_row[(k, m)])
                    val.append(float(min(a, cap)))
            if p.offering.capacity_type == "spot":
                if (k, p.offering.name) in room_row:
                    idx.append(room_row[(k, p.offering.name)])
                    val.append(-float(a))
            else:
                idx.append(cover0 + k)
                val.append(float(a))
        cols.append((p.offering.usd_per_hour, highspy.kHighsInf, idx, val))
    for k, i, o in pairs:
        w = classes[k].workloads[i]
        cols.append(
            (
                0.0,
                float(min(w.pool_cap(), w.replicas)),
                [room_row[(k, o)], cover0 + k, wl_rows[(k, i)]],
                [1.0, 1.0, 1.0],
            )
        )
    lower = np.full(n_rows, -highspy.kHighsInf)
    upper = np.zeros(n_rows)
    for k, c in enumerate(classes):
        lower[cover0 + k], upper[cover0 + k] = float(c.demand), highspy.kHighsInf
    for (k, i), r in wl_rows.items():
        upper[r] = float(classes[k].workloads[i].max_spot_cap())
    for (k, m), r in spread_row.items():
        lower[r], upper[r] = float(classes[k].spread[m].need), highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cols), n_rows
    lp.col_cost_ = np.array([c[0] for c in cols])
    lp.col_lower_ = np.zeros(len(cols))
    lp.col_upper_ = np.array([c[1] for c in cols])
    lp.row_lower_, lp.row_upper_ = lower, upper
    starts = np.cumsum([0] + [len(c[2]) for c in cols]).astype(np.int32)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = np.array([r for c in cols for r in c[2]], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([v for c in cols for v in c[3]])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_pat + [highspy.HighsVarType.kContinuous] * len(
        pairs
    )
    h = quiet_highs()
    h.setOptionValue("mip_max_nodes", max(1, int(max_nodes)))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-7)
    if cutoff is not None:
        h.setOptionValue("objective_bound", float(cutoff))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return PatternPlan([], True, float("inf"), infeasible=True)
    if h.getInfo().primal_solution_status != 2:
        return None
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    counts = [round(v) for v in list(h.getSolution().col_value)[:n_pat]]
    nodes, leftover = _build(classes, patterns, counts)
    if (leftover and not partial) or (not nodes and any(c.demand for c in classes)):
        return None
    return PatternPlan(nodes, optimal and not leftover, float(h.getInfo().mip_dual_bound), leftover=leftover)


class _Flow:
    """A max-flow graph whose nodes are named by keys."""

    def __init__(self) -> None:
        self.graph = max_flow.SimpleMaxFlow()
        self.ids: dict[object, int] = {}
        self.arcs: dict[tuple[object, object], int] = {}

    def arc(self, tail: object, head: object, capacity: int) -> int:
        """The arc tail -> head, added once (with `capacity`)."""
        if (tail, head) not in self.arcs:
            t, h = (self.ids.setdefault(x, len(self.ids)) for x in (tail, head))
            self.arcs[(tail, head)] = self.graph.add_arc_with_capacity(t, h, capacity)
        return self.arcs[(tail, head)]

    def solve(self) -> int:
        if "src" not in self.ids or "sink" not in self.ids:
            return 0
        if self.graph.solve(self.ids["src"], self.ids["sink"]) != self.graph.OPTIMAL:
            return -1
        return int(self.graph.optimal_flow())


def _build(
    classes: list[PodClass], patterns: list[Pattern], counts: list[int]
) -> tuple[list[OpenNode], dict[str, int]]:
    """Nodes for the chosen patterns, with each class's room given to its workloads by an exact max flow:
    workload -> node (at most its per-node cap), through its spot cap and per-pool caps for spot nodes; and
    the pods the rooms cannot hold, per workload. No nodes if one would break an anti-affinity."""
    rooms: list[tuple[OpenNode, dict[int, int]]] = []
    for p, n in zip(patterns, counts, strict=True):
        for _ in range(n):
            rooms.append((OpenNode(p.offering), dict(p.counts)))
    leftover: dict[str, int] = {}
    for k, c in enumerate(classes):
        g = _Flow()
        arcs: list[tuple[int, int, int]] = []  # (arc, workload index, room index)
        for j, w in enumerate(c.workloads):
            g.arc("src", ("w", j), w.replicas)
            for i, (node, room) in enumerate(rooms):
                if not room.get(k):
                    continue
                tail: object = ("w", j)
                if node.offering.capacity_type == "spot":
                    g.arc(("w", j), ("spot", j), w.max_spot_cap())
                    tail = ("pool", j, node.offering.name)
                    g.arc(("spot", j), tail, w.pool_cap())
                arcs.append((g.arc(tail, ("room", i), w.per_node()), j, i))
                g.arc(("room", i), "sink", room[k])
        g.solve()
        placed = [0] * len(c.workloads)
        for arc, j, i in arcs:
            if g.graph.flow(arc):
                rooms[i][0].add(c.workloads[j], g.graph.flow(arc))
                placed[j] += g.graph.flow(arc)
        for j, w in enumerate(c.workloads):
            if w.replicas > placed[j]:
                leftover[w.name] = w.replicas - placed[j]
    nodes = [node for node, _ in rooms if node.pods]
    if any(node.blocked[name] for node in nodes for name in node.counts):
        return [], leftover
    return nodes, leftover
