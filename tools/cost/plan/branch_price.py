"""Branch and price on node counts: a bound above the configuration LP's, and the columns its nodes price.

The configuration LP lets an offering run 18.9 nodes; a plan runs 18 or 19. Each search node is the
configuration LP with bounds on some offerings' node counts (y_o <= k on one side of a branch, y_o >= k + 1
on the other), solved by column generation over the shared pattern pool. Its bound is a Lagrangian one, valid
whether or not its column generation converged: with the master's duals (pi per pod class, sigma and rho on
the spot rows, mu on the branch rows, each of the sign its row allows) and, per offering, a proven cap V_o on
what one node's load is worth at pi (`best_load`),

    bound = pi.d - sigma.spotcap - rho.poolcap + sum_o mu_o b_o + sum_o min over L_o <= y <= U_o of r_o y,
    r_o = price_o - mu_o - V_o,  U_o = min(its branch's upper end, floor(ceiling / price_o)),

b_o being the branch's lower end where mu_o > 0 and its upper end where mu_o < 0. `ceiling` is the cost of a
plan in hand: only cheaper plans matter, and none runs more than floor(ceiling / price_o) nodes of o.
Search nodes go best bound first; the tree's bound is the least over the nodes not yet branched (or the
ceiling), so it only rises. Work is counted in search nodes, never seconds.

The configuration model aggregates spot shares per pod class; it is a relaxation of the real problem (zones
and per-workload rules are not in it), so every bound here is a lower bound on every plan. It is this
module's own proof, not re-derived by `verifiers.cost` (as the pattern MILP's and CP-SAT's are not), and is
tested against proven optima.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from tools.cost.plan.configuration import (
    ConfigurationLP,
    Pattern,
    _Master,
    dual_objective,
    node_items,
)
from tools.cost.plan.knapsack import Node, best_load, load_cap, load_multipliers

__all__ = ["BranchAndPrice", "branch_and_price"]

# A proven cap within this of the node's worth: the bound loses at most this times the ceiling per offering.
_CAP_TOL = 1e-7
# Knapsack search nodes before the load goes to HiGHS as a small MILP (faster on the hard ones).
_KNAPSACK_LIMIT = 300
# Fractions of a node below this count as whole.
_WHOLE = 1e-6

Branches = dict[str, tuple[int, int | None]]


@dataclass
class BranchAndPrice:
    bound: float
    """Every plan costs at least min(this, the ceiling)."""
    patterns: list[Pattern]
    """The pattern pool: the configuration LP's columns and every search node's."""
    nodes: int
    """Search nodes solved."""
    closed: bool
    """The tree was searched out: no plan below the bound, which is then the ceiling or the optimum."""


@dataclass
class _Solved:
    bound: float
    counts: dict[str, float]
    """Node count per offering in the node's LP solution."""


class _Pool:
    """The columns every search node starts from (a node's master holds them and its own)."""

    def __init__(self, patterns: list[Pattern]):
        self.patterns = list(patterns)
        self.seen = {p.key for p in patterns}

    def add(self, p: Pattern) -> bool:
        if p.key in self.seen or not p.counts:
            return False
        self.seen.add(p.key)
        self.patterns.append(p)
        return True


def _solve_node(
    cfg: ConfigurationLP,
    pool: _Pool,
    branches: Branches,
    ceiling: float,
    rounds: int,
    prices: dict[str, tuple[float, float, float]],
) -> _Solved:
    """Column generation at one search node: the best Lagrangian bound over its rounds, and the node counts
    of its last master solution."""
    offerings = cfg.offerings
    most: dict[str, int] = {}
    for o in offerings:
        least, upper = branches.get(o.name, (0, None))
        paid = math.floor(ceiling / o.usd_per_hour + 1e-9) if o.usd_per_hour > 0 else 1 << 30
        most[o.name] = paid if upper is None else min(paid, upper)
        if most[o.name] < least:  # more nodes of o than the ceiling pays for: no cheaper plan here
            return _Solved(ceiling, {})
    best = -math.inf
    counts: dict[str, float] = {}
    master = _Master(cfg.classes, offerings, branches)
    for p in pool.patterns:
        master.add(p)
    for _ in range(rounds):
        duals, usage = master.solve()
        counts = {}
        for p, n in zip(master.patterns, usage, strict=True):
            if n > 1e-9:
                counts[p.offering.name] = counts.get(p.offering.name, 0.0) + n
        mu: dict[str, float] = {}
        bound = dual_objective(cfg.classes, duals)
        for name, m in master.branch_duals.items():
            least, upper = branches[name]
            if m < 0 and upper is None:
                m = 0.0  # a row y >= least prices only upward
            mu[name] = m
            bound += m * (least if m > 0 else (upper or 0))
        fresh = 0
        for o in offerings:
            if most[o.name] == 0:
                continue
            m = mu.get(o.name, 0.0)
            node, items = Node(o.cpu_m, o.memory_mib, o.max_pods), node_items(o, cfg.classes, duals)
            if o.name not in prices:
                prices[o.name] = load_multipliers(node, items)
            cap = load_cap(node, items, prices[o.name])
            worth, load = 0.0, dict[int, int]()
            if cap > o.usd_per_hour - m:  # the quick cap does not settle it: search
                worth, cap, load = best_load(
                    node, items, rel_tol=_CAP_TOL, limit=_KNAPSACK_LIMIT, target=o.usd_per_hour - m
                )
            reduced = o.usd_per_hour - m - cap
            least = branches.get(o.name, (0, None))[0]
            bound += reduced * (least if reduced >= 0 else most[o.name])
            if worth > (o.usd_per_hour - m) * (1 + 1e-9) + 1e-12:
                p = Pattern(o, tuple(sorted(load.items())))
                if pool.add(p):
                    fresh += master.add(p)
        best = max(best, bound)
        if not fresh:
            break
    return _Solved(min(best, ceiling), counts)


def _branch_on(counts: dict[str, float], price: dict[str, float]) -> tuple[str, float] | None:
    """The offering whose node count is most fractional, weighted by its price (ties: by name)."""
    best: tuple[float, str, float] | None = None
    for name in sorted(counts):
        v = counts[name]
        frac = min(v - math.floor(v), math.ceil(v) - v)
        if frac > _WHOLE and (best is None or frac * price[name] > best[0]):
            best = (frac * price[name], name, v)
    return None if best is None else (best[1], best[2])


def branch_and_price(cfg: ConfigurationLP, ceiling: float, max_nodes: int, rounds: int = 8) -> BranchAndPrice:
    """Best-bound branch and price from the configuration LP `cfg` (over the offerings it was solved over)
    for at most `max_nodes` search nodes of at most `rounds` pricing rounds each."""
    price = {o.name: o.usd_per_hour for o in cfg.offerings}
    pool = _Pool(cfg.patterns)
    prices: dict[str, tuple[float, float, float]] = {}  # per offering, resource prices for `load_cap`
    heap: list[tuple[float, int, Branches]] = [(cfg.bound, 0, {})]
    made, solved = 1, 0
    whole: list[float] = []  # nodes whose node counts are all whole: no branch here, their bound stands
    while heap and solved < max_nodes and heap[0][0] < ceiling:
        inherited, _, branches = heapq.heappop(heap)
        node = _solve_node(cfg, pool, branches, ceiling, rounds, prices)
        solved += 1
        bound = max(inherited, node.bound)
        if bound >= ceiling:
            continue
        pick = _branch_on(node.counts, price)
        if pick is None:
            whole.append(bound)
            continue
        name, v = pick
        least, upper = branches.get(name, (0, None))
        for side in ((least, math.floor(v)), (math.ceil(v), upper)):
            heapq.heappush(heap, (bound, made, {**branches, name: side}))
            made += 1
    open_bounds = [b for b, _, _ in heap] + whole
    bound = min([ceiling, *open_bounds])
    return BranchAndPrice(bound=bound, patterns=pool.patterns, nodes=solved, closed=not open_bounds)
