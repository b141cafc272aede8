"""One node's integer knapsack over pod classes (CPU, memory, pod slots), by branch and bound.

Used by the configuration LP: `best_load` prices an offering (the most valuable whole-pod load one node
holds), `loads_worth` lists every load worth at least a threshold (the patterns an optimal plan may use).
Pods of one size are interchangeable, so they form a group whose best values go first. Groups are tried best
value per share of the node first, each from its largest count down; a branch is cut when what is left
cannot reach what is sought: capped by all pods left, by each resource's room at its best value per unit,
and by the room priced at the load LP's dual prices plus each pod's value above its priced resources.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

from tools.cost.plan.relaxation import quiet_highs

__all__ = ["Item", "LoadLimitError", "Node", "best_load", "load_cap", "load_multipliers", "loads_worth"]

_FIT_TOL = 1e-6
_INF = float("inf")


class LoadLimitError(RuntimeError):
    """The search grew past its limit: nothing it found so far is complete."""


@dataclass(frozen=True)
class Item:
    key: int
    """The caller's class index."""
    cpu_m: float
    memory_mib: float
    value: float
    most: int
    """At most this many on one node."""


@dataclass(frozen=True)
class Node:
    cpu_m: float
    memory_mib: float
    max_pods: int


_LP: list[highspy.Highs] = []


def _multipliers(node: Node, items: list[Item]) -> tuple[float, float, float]:
    """Prices per millicore, MiB and pod slot from the load's LP relaxation (HiGHS): with them, the room
    left plus each item's excess value over its priced resources caps what a branch can still add."""
    n = len(items)
    if not n:
        return (0.0, 0.0, 0.0)
    if not _LP:
        _LP.append(quiet_highs())
    h = _LP[0]
    h.passModel(_load_model(node, items, [max(0.0, it.value) for it in items]))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return (0.0, 0.0, 0.0)
    d = h.getSolution().row_dual
    return (abs(float(d[0])), abs(float(d[1])), abs(float(d[2])))


def load_multipliers(node: Node, items: list[Item]) -> tuple[float, float, float]:
    """Prices per millicore, MiB and pod slot for `load_cap`: the load LP's duals at these items' values."""
    return _multipliers(node, [it for it in items if it.value > 0])


def load_cap(node: Node, items: list[Item], prices: tuple[float, float, float]) -> float:
    """A proven cap on any load's value from any nonnegative resource prices (a Lagrangian bound): the node's
    resources at those prices plus what each item may add above its priced resources. Cheap, and as tight as
    the LP bound at the prices `load_multipliers` gave for the same values."""
    a, b, c = prices
    cap = a * node.cpu_m + b * node.memory_mib + c * node.max_pods
    for it in items:
        excess = it.value - a * it.cpu_m - b * it.memory_mib - c
        if excess > 0:
            n = min(it.most, node.max_pods)
            if it.cpu_m > 0:
                n = min(n, int((node.cpu_m + _FIT_TOL) // it.cpu_m))
            if it.memory_mib > 0:
                n = min(n, int((node.memory_mib + _FIT_TOL) // it.memory_mib))
            cap += n * excess
    return cap


@dataclass
class _Group:
    """Items of one size: interchangeable on a node, so the best values go first."""

    cpu_m: float
    memory_mib: float
    runs: list[tuple[float, int, int]]
    """(value, count, key), best value first."""

    @property
    def most(self) -> int:
        return sum(n for _, n, _ in self.runs)

    def value(self, k: int) -> float:
        total = 0.0
        for v, n, _ in self.runs:
            take = min(n, k)
            total += take * v
            k -= take
            if not k:
                break
        return total

    def split(self, k: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for _, n, key in self.runs:
            take = min(n, k)
            if take:
                out[key] = out.get(key, 0) + take
            k -= take
        return out


def _density(node: Node, g: _Group) -> float:
    share = max(g.cpu_m / node.cpu_m, g.memory_mib / node.memory_mib, 1 / node.max_pods)
    return g.runs[0][0] / share


def _groups(node: Node, items: list[Item]) -> list[_Group]:
    by_size: dict[tuple[float, float], list[tuple[float, int, int]]] = {}
    for it in items:
        if it.most > 0:
            by_size.setdefault((it.cpu_m, it.memory_mib), []).append((it.value, it.most, it.key))
    groups = [_Group(c, m, sorted(runs, key=lambda r: (-r[0], r[2]))) for (c, m), runs in by_size.items()]
    return sorted(groups, key=lambda g: (-_density(node, g), g.cpu_m, g.memory_mib))


def _steps(groups: list[_Group]) -> list[tuple[int, int]]:
    """Per start index: the gcd of the CPU and of the memory sizes of groups[start:] (0: not integral)."""
    out = [(0, 0)]
    for g in reversed(groups):
        cpu, mem = out[-1]
        cpu = math.gcd(cpu, int(g.cpu_m)) if cpu >= 0 and float(g.cpu_m).is_integer() else -1
        mem = math.gcd(mem, int(g.memory_mib)) if mem >= 0 and float(g.memory_mib).is_integer() else -1
        out.append((cpu, mem))
    return [(max(0, c), max(0, m)) for c, m in reversed(out)]


def _search(
    node: Node,
    groups: list[_Group],
    enough: Callable[[float, float], bool],
    leaf: Callable[[float, list[int]], None],
    limit: int,
) -> float:
    """Depth-first over counts per group; `enough(value so far, cap on what is left)` says whether to go on.
    Returns the cap on the whole load's value (what a search stopped by LoadLimitError can still claim)."""
    items = [Item(0, g.cpu_m, g.memory_mib, v, n) for g in groups for v, n, _ in g.runs]
    a, b, c = _multipliers(node, [it for it in items if it.value > 0])
    caps: list[tuple[float, float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0, 0.0)]
    for g in reversed(groups):  # per start index: all value, best per pod, per millicore, per MiB, excess
        total, top, d_cpu, d_mem, excess = caps[-1]
        v = max(0.0, g.runs[0][0])
        d_cpu = max(d_cpu, v / g.cpu_m if g.cpu_m > 0 else (_INF if v > 0 else 0.0))
        d_mem = max(d_mem, v / g.memory_mib if g.memory_mib > 0 else (_INF if v > 0 else 0.0))
        total += sum(max(0.0, x) * n for x, n, _ in g.runs)
        excess += sum(n * max(0.0, x - a * g.cpu_m - b * g.memory_mib - c) for x, n, _ in g.runs)
        caps.append((total, max(top, v), d_cpu, d_mem, excess))
    caps.reverse()
    steps = _steps(groups)
    counts = [0] * len(groups)
    visited = 0

    def upper(i: int, cpu: float, mem: float, slots: int) -> float:
        total, top, d_cpu, d_mem, excess = caps[i]
        g_cpu, g_mem = steps[i]  # what is left is used in whole multiples of these
        if g_cpu:
            cpu = math.floor(cpu / g_cpu + 1e-9) * g_cpu
        if g_mem:
            mem = math.floor(mem / g_mem + 1e-9) * g_mem
        cap = min(total, slots * top, a * cpu + b * mem + c * slots + excess)
        if d_cpu < _INF:
            cap = min(cap, cpu * d_cpu)
        if d_mem < _INF:
            cap = min(cap, mem * d_mem)
        return cap

    def go(i: int, cpu: float, mem: float, slots: int, value: float) -> None:
        nonlocal visited
        visited += 1
        if visited > limit:
            raise LoadLimitError(f"knapsack search passed {limit} nodes")
        if not enough(value, upper(i, cpu, mem, slots)):
            return
        if i == len(groups):
            leaf(value, counts)
            return
        g = groups[i]
        most = min(g.most, slots)
        if g.cpu_m > 0:
            most = min(most, int(cpu // g.cpu_m))
        if g.memory_mib > 0:
            most = min(most, int(mem // g.memory_mib))
        for k in range(most, -1, -1):
            counts[i] = k
            go(i + 1, cpu - k * g.cpu_m, mem - k * g.memory_mib, slots - k, value + g.value(k))
        counts[i] = 0

    root = upper(0, node.cpu_m + _FIT_TOL, node.memory_mib + _FIT_TOL, node.max_pods)
    go(0, node.cpu_m + _FIT_TOL, node.memory_mib + _FIT_TOL, node.max_pods, 0.0)
    return root


def best_load(
    node: Node,
    items: list[Item],
    rel_tol: float = 2e-4,
    limit: int = 20_000,
    milp_nodes: int = 2_000,
    target: float = 0.0,
) -> tuple[float, float, dict[int, int]]:
    """The most valuable load of one node: (its value, a proven cap on any load's value, class key -> count).
    Branches that cannot beat max(best, `target`) by more than `rel_tol` are cut, so the cap is that times
    (1 + rel_tol): with the node's price as the target, proving that no load is worth more is quick. A
    search past `limit` nodes hands the load to HiGHS as a small MILP of at most `milp_nodes` branch-and-bound
    nodes (its proven bound is the cap). Work limits, not time: the same input gives the same answer."""
    groups = _groups(node, [it for it in items if it.value > 0])
    best: list[tuple[float, dict[int, int]]] = [(0.0, {})]

    def leaf(value: float, counts: list[int]) -> None:
        if value > best[0][0]:
            load: dict[int, int] = {}
            for g, k in zip(groups, counts, strict=True):
                load.update(g.split(k))
            best[0] = (value, load)

    def enough(v: float, cap: float) -> bool:
        return v + cap > max(best[0][0], target) * (1 + rel_tol) + 1e-15

    try:
        _search(node, groups, enough, leaf, limit)
    except LoadLimitError:
        root = _search(node, groups, lambda v, cap: False, leaf, 1)
        solved = _milp_load(node, [it for it in items if it.value > 0], milp_nodes)
        if solved is None:
            return best[0][0], max(root, max(best[0][0], target) * (1 + rel_tol)), best[0][1]
        value, cap, load = solved
        if value > best[0][0]:
            best[0] = (value, load)
        return best[0][0], max(best[0][0], min(root, cap)), best[0][1]
    return best[0][0], max(best[0][0], target) * (1 + rel_tol), best[0][1]


def _load_model(node: Node, items: list[Item], values: list[float]) -> highspy.HighsLp:
    """One node's load as an LP: maximize value, within its CPU, memory and pod slots, at most `most` each."""
    n = len(items)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, 3
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.array(values)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.array([float(it.most) for it in items])
    lp.row_lower_ = np.full(3, -highspy.kHighsInf)
    lp.row_upper_ = np.array([node.cpu_m + _FIT_TOL, node.memory_mib + _FIT_TOL, float(node.max_pods)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 3 * n + 1, 3, dtype=np.int32)
    lp.a_matrix_.index_ = np.tile(np.arange(3, dtype=np.int32), n)
    lp.a_matrix_.value_ = np.array([x for it in items for x in (it.cpu_m, it.memory_mib, 1.0)])
    return lp


def _milp_load(node: Node, items: list[Item], max_nodes: int) -> tuple[float, float, dict[int, int]] | None:
    """The load as a MILP for HiGHS, at most `max_nodes` branch-and-bound nodes: (value found, proven cap,
    load), or None without a solution."""
    n = len(items)
    h = quiet_highs()
    lp = _load_model(node, items, [it.value for it in items])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.setOptionValue("mip_max_nodes", max(1, max_nodes))
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    x = h.getSolution().col_value
    taken = [round(x[j]) for j in range(n)]
    load: dict[int, int] = {}
    for it, t in zip(items, taken, strict=True):  # one key may span several items (a run of falling values)
        if t > 0:
            load[it.key] = load.get(it.key, 0) + t
    value = sum(it.value * t for it, t in zip(items, taken, strict=True))
    cap = float(h.getInfo().mip_dual_bound)
    ok = (
        sum(it.cpu_m * t for it, t in zip(items, taken, strict=True)) <= node.cpu_m + _FIT_TOL
        and sum(it.memory_mib * t for it, t in zip(items, taken, strict=True)) <= node.memory_mib + _FIT_TOL
        and sum(taken) <= node.max_pods
    )
    return (value, max(cap, value), load) if ok else None


def loads_worth(
    node: Node, items: list[Item], threshold: float, limit: int = 200_000
) -> list[tuple[float, dict[int, int]]]:
    """Every load (value, class key -> count) of one node worth at least `threshold`, items of value <= 0
    included (they add room a plan may need). Raises LoadLimitError past `limit` search nodes."""
    singles = [_Group(it.cpu_m, it.memory_mib, [(it.value, it.most, it.key)]) for it in items if it.most > 0]
    ordered = sorted(singles, key=lambda g: -_density(node, g))
    found: list[tuple[float, dict[int, int]]] = []

    def leaf(value: float, counts: list[int]) -> None:
        if value >= threshold and any(counts):
            load: dict[int, int] = {}
            for i, k in enumerate(counts):  # one key may span several items
                if k:
                    load[ordered[i].runs[0][2]] = load.get(ordered[i].runs[0][2], 0) + k
            found.append((value, load))

    _search(node, ordered, lambda v, cap: v + cap >= threshold, leaf, limit)
    return found
