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

from dataclasses import dataclass

import highspy
import numpy as np
from ortools.graph.python import max_flow

from tools.cost.plan.configuration import NodeCount, Pattern, PodClass
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
    max_cuts: int = 0,
) -> PatternPlan | None:
    """The cheapest plan made of `patterns`; None when HiGHS finds none within `max_nodes` branch-and-bound
    nodes (or none below `cutoff`). When the pattern counts it picks cannot be built (the node-count rows
    are exact only for some workload sets), up to `max_cuts` times it adds each failing class's min cut as
    a node-count row and solves again (each solve gets `max_nodes`)."""
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
    for _ in range(max_cuts + 1):
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
            return PatternPlan([], True, float("inf"), infeasible=True)
        if h.getInfo().primal_solution_status != 2:
            return None
        optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        counts = [round(v) for v in list(h.getSolution().col_value)[:n_pat]]
        nodes = _build(classes, patterns, counts)
        if nodes is not None:
            return PatternPlan(nodes, optimal, float(h.getInfo().mip_dual_bound))
        cuts = _cuts(classes, patterns, counts)
        if not cuts:
            return None
        for k, row in cuts:  # every plan keeps it; this one does not, so the next solve differs
            idx = [j for j, p in enumerate(patterns) if _held(p, k, row)]
            val = [float(_held(patterns[j], k, row)) for j in idx]
            h.addRow(
                float(row.need), highspy.kHighsInf, len(idx), np.array(idx, dtype=np.int32), np.array(val)
            )
    return None


def _held(p: Pattern, k: int, row: NodeCount) -> int:
    """Pods of class k a node of pattern p counts on `row`."""
    a = dict(p.counts).get(k, 0)
    return min(a, row.cap_on(p.offering.capacity_type == "spot"))


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


def _rooms(patterns: list[Pattern], counts: list[int]) -> list[tuple[OpenNode, dict[int, int]]]:
    return [
        (OpenNode(p.offering), dict(p.counts))
        for p, n in zip(patterns, counts, strict=True)
        for _ in range(n)
    ]


def _flow(
    c: PodClass, k: int, rooms: list[tuple[OpenNode, dict[int, int]]]
) -> tuple[_Flow, list[tuple[int, int, int]]]:
    """Class k's room given to its workloads: workload -> node (at most its per-node cap), through its spot
    cap and per-pool caps for spot nodes. Also the (arc, workload index, room index) of each node arc."""
    g = _Flow()
    arcs: list[tuple[int, int, int]] = []
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
    return g, arcs


def _build(classes: list[PodClass], patterns: list[Pattern], counts: list[int]) -> list[OpenNode] | None:
    """Nodes for the chosen patterns, with each class's room given to its workloads by an exact max flow.
    None if the rooms cannot hold every pod, or a node would break an anti-affinity."""
    rooms = _rooms(patterns, counts)
    for k, c in enumerate(classes):
        g, arcs = _flow(c, k, rooms)
        if g.solve() < c.demand:
            return None
        for arc, j, i in arcs:
            if g.graph.flow(arc):
                rooms[i][0].add(c.workloads[j], g.graph.flow(arc))
    nodes = [node for node, _ in rooms if node.pods]
    if any(node.blocked[name] for node in nodes for name in node.counts):
        return None
    return nodes


def _cuts(classes: list[PodClass], patterns: list[Pattern], counts: list[int]) -> list[tuple[int, NodeCount]]:
    """For each class whose rooms cannot hold its pods, the node-count row its min cut gives (when that row
    is broken by these counts: a cut through spot-pool arcs may not be). Workloads on the source side count:
    on every node if their spot side is there too (all their replicas needed), on on-demand nodes only if
    not (their replicas beyond the spot cap needed); the rest are left out. Every plan keeps such a row."""
    rooms = _rooms(patterns, counts)
    out = []
    for k, c in enumerate(classes):
        g, _ = _flow(c, k, rooms)
        if g.solve() >= c.demand:
            continue
        side = set(g.graph.get_source_side_min_cut())
        ids = g.ids
        everywhere, on_demand = [], []
        for j, w in enumerate(c.workloads):
            if ids.get(("w", j)) not in side:
                continue
            spot_id = ids.get(("spot", j))
            if w.max_spot_cap() and (spot_id is None or spot_id in side):
                everywhere.append(j)
            else:
                on_demand.append(j)
        spot = sum(c.workloads[j].per_node() for j in everywhere)
        cap = spot + sum(c.workloads[j].per_node() for j in on_demand)
        need = sum(c.workloads[j].replicas for j in everywhere)
        need += sum(c.workloads[j].replicas - c.workloads[j].max_spot_cap() for j in on_demand)
        row = NodeCount(cap, need, tuple(everywhere), tuple(on_demand), spot)
        held = sum(
            min(room.get(k, 0), row.cap_on(node.offering.capacity_type == "spot")) for node, room in rooms
        )
        if held < need:
            out.append((k, row))
    return out
