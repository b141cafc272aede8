"""Proven optima from the configuration LP: every pattern an improving plan could use, then the pattern MILP.

With dual prices y feasible for the configuration LP (no node worth more than its price) and LB their bound,
any plan costs at least LB + the sum of its nodes' reduced costs (price - value at y), each >= 0. So a plan
cheaper than the incumbent UB only uses patterns of reduced cost <= UB - LB. Listing them all per offering
(`loads_worth`) and solving the pattern MILP over them to optimality proves min(UB, its bound) a lower bound
on every plan. Too many patterns, a search limit or a MILP timeout proves nothing (None).
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.cost.plan.configuration import ConfigurationLP, Pattern, dual_objective, node_items
from tools.cost.plan.knapsack import LoadLimitError, Node, loads_worth
from tools.cost.plan.packing import OpenNode
from tools.cost.plan.patterns import solve_patterns
from verifiers.cost.model import Offering

__all__ = ["PatternProof", "solve_by_patterns"]


@dataclass
class PatternProof:
    nodes: list[OpenNode]
    """The best plan: the MILP's, or the incumbent when nothing beats it."""
    bound: float
    """Proven lower bound on every plan's cost."""


def _patterns(
    cfg: ConfigurationLP, offerings: list[Offering], delta: float, limit: int
) -> list[Pattern] | None:
    """Every pattern of reduced cost <= delta at the certificate's prices, less those another one holds (one
    more pod of some class, also within delta: more room at the same price). None when there are too many
    or some pattern is worth more than its node (the prices are then not feasible, and prove nothing)."""
    patterns: list[Pattern] = []
    for o in offerings:
        items = node_items(o, cfg.classes, cfg.duals)
        if not items:
            continue
        try:
            loads = loads_worth(Node(o.cpu_m, o.memory_mib, o.max_pods), items, o.usd_per_hour - delta)
        except LoadLimitError:
            return None
        listed = {tuple(sorted(load.items())) for _, load in loads}
        for value, load in loads:
            if value > o.usd_per_hour * (1 + 1e-6) + 1e-9:
                return None
            if not any(
                tuple(sorted({**load, it.key: load.get(it.key, 0) + 1}.items())) in listed for it in items
            ):
                patterns.append(Pattern(o, tuple(sorted(load.items()))))
        if len(patterns) > limit:
            return None
    return patterns


def solve_by_patterns(
    cfg: ConfigurationLP,
    offerings: list[Offering],
    incumbent: list[OpenNode],
    max_rounds: int = 8,
    max_patterns: int = 20_000,
    milp_nodes: int = 20_000,
) -> PatternProof | None:
    """`offerings`: those the configuration LP priced (non-dominated ones; an optimum over them is one).

    Rounds with a growing reduced-cost limit delta: the MILP over the patterns within delta, solved to
    optimality with bound B, proves every plan costs at least min(LB + delta, B); once the best plan costs at
    most LB + delta that is its optimality. None when no round proves anything. At most `max_rounds` rounds
    and `milp_nodes` branch-and-bound nodes per MILP: work limits, so a busy machine proves the same."""
    nodes = incumbent
    upper = sum(n.offering.usd_per_hour for n in incumbent)
    lower = dual_objective(cfg.classes, cfg.duals)
    if upper < lower - 1e-9:
        return None
    proven: float | None = None
    delta = min(upper - lower, 0.003 * upper)
    for _ in range(max_rounds):
        margin = delta + 1e-7 + 1e-9 * upper  # float slack: listing a few more patterns never hurts
        patterns = _patterns(cfg, offerings, margin, max_patterns)
        if patterns is None:
            break
        found = solve_patterns(cfg.classes, patterns, milp_nodes, rel_gap=0.0)
        if found is None:
            break  # no plan within the node limit: proves nothing
        if found.infeasible:  # no plan uses only patterns within delta: every plan costs >= LB + delta
            proven = max(proven or 0.0, lower + delta)
        else:
            cost = sum(n.offering.usd_per_hour for n in found.nodes)
            if cost < upper - 1e-9:
                nodes, upper = found.nodes, cost
            if not found.optimal:
                break
            proven = max(proven or 0.0, min(lower + delta, found.dual_bound))
        if proven >= upper * (1 - 1e-9) or delta >= upper - lower:
            break
        delta = min(upper - lower, 2 * delta)
    if proven is None:
        return None
    return PatternProof(nodes, min(upper, max(lower, proven)))
