"""The configuration LP (Gilmore-Gomory) by column generation: a lower bound that knows pods are whole.

Pods of one size that may go on the same offerings form a class; a pattern is a whole-pod load (a count per
class) one node of an offering holds. The master LP (HiGHS) picks lambda >= 0 nodes per pattern:
    sum a_k lambda >= d_k                      (every pod of class k placed)
    sum_{spot} a_k lambda <= sum_w spotcap_w     (aggregated max-spot-share rows; a relaxation)
    sum_{pool o} a_k lambda <= sum_w poolcap_w   (aggregated spot-pool rows, where they can bind)
    sum min(a_k, cap) lambda >= need             (node-count rows of workloads capped per node, with a
                                                  smaller cap on spot nodes where spot caps bind)
Pricing solves each offering's knapsack at the master's dual prices and adds loads worth more than the node.
At every round the duals, scaled by theta = min_o price_o / V_o (Farley), prove a bound; the best one goes
out as a `ConfigurationCertificate`, which `verifiers.cost.configuration` re-checks with its own knapsack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import highspy
import numpy as np

from tools.cost.plan.knapsack import Item, Node, best_load
from tools.cost.plan.packing import OpenNode
from tools.cost.plan.relaxation import quiet_highs
from verifiers.cost.model import ConfigurationCertificate, Offering, PlanProblem, Workload

__all__ = [
    "ConfigurationLP",
    "Duals",
    "NodeCount",
    "Pattern",
    "PodClass",
    "dual_objective",
    "fixing",
    "node_items",
    "pod_classes",
    "reduced_cost",
    "seed_patterns",
    "solve_configuration",
]


@dataclass(frozen=True)
class NodeCount:
    """A node-count row of a pod class: sum over on-demand patterns of min(its pods, `cap`) x nodes, plus
    over spot patterns of min(its pods, `spot`) x nodes, >= `need`."""

    cap: int
    """On an on-demand node: the per-node caps of `members` and `on_demand` summed."""
    need: int
    members: tuple[int, ...]
    """Indices of the class's workloads it counts on every node (all their replicas are in `need`)."""
    on_demand: tuple[int, ...] = ()
    """Indices of workloads it counts on on-demand nodes only (their replicas beyond their spot caps)."""
    spot: int = -1
    """On a spot node: the per-node caps of `members` summed (-1: the same as `cap`)."""

    def cap_on(self, spot: bool) -> int:
        return (self.cap if self.spot < 0 else self.spot) if spot else self.cap

    def counted(self, spot: bool) -> tuple[int, ...]:
        """The workloads whose pods it counts on a spot (or an on-demand) node."""
        return self.members if spot else self.members + self.on_demand


def _sampled(n: int, most: int) -> bool:
    """Prefix lengths the mixed node-count rows take: all up to 8, then about 1.5 times the last, and the
    whole. All pairs would be quadratic in a class's workloads (10,000 pods with the availability rules:
    22,000 rows, 15,000 in one class); these are about (2 log2 n)^2 a class."""
    if n <= 8 or n == most:
        return True
    step = 8
    while step < n:
        step = step * 3 // 2
    return step == n


@dataclass(frozen=True)
class PodClass:
    """Pods of one size allowed on the same offerings: interchangeable for packing."""

    cpu_m: int
    memory_mib: float
    offerings: frozenset[str]
    workloads: tuple[Workload, ...]

    @property
    def demand(self) -> int:
        return sum(w.replicas for w in self.workloads)

    @property
    def spot_cap(self) -> int:
        return sum(w.max_spot_cap() for w in self.workloads)

    @property
    def pool_cap(self) -> int:
        return sum(w.pool_cap() for w in self.workloads if w.max_spot_cap())

    @cached_property
    def node_most(self) -> int:
        """Most of its pods one node can hold under the workloads' per-node caps."""
        return sum(w.per_node() for w in self.workloads)

    @cached_property
    def spot_most(self) -> int:
        """Most of its pods one spot node can hold under the workloads' caps."""
        return sum(min(w.per_node(), w.max_spot_cap(), w.pool_cap()) for w in self.workloads)

    @cached_property
    def spread(self) -> tuple[NodeCount, ...]:
        """Node-count rows. For the m workloads needing the most nodes (replicas / per-node cap; m = 1, 2,
        ...), a node holds at most min(its pods of the class, their caps summed) of them, so the nodes must
        hold their replicas that way. The class's per-node count alone would let one-per-node workloads of 4,
        10 and 10 pods share 8 nodes of 3 pods, where the two 10-pod ones need 20 pod places two a node at
        most. With equal caps these rows are exactly what a pattern plan needs to be built (Hall's
        condition); a row whose caps reach the class's per-node count says nothing the demand row does not.

        Spot caps add rows of a second kind: a workload's replicas beyond its spot cap must stand on
        on-demand nodes, so to any such set A of workloads (counted everywhere; A may be empty) add workloads
        B counted on on-demand nodes only, needing their replicas less their spot caps. Without them a
        one-per-node workload of 40 pods, at most 20 on spot, fits the class's rows on 24 on-demand and 16
        spot nodes while two 4-pod workloads (at most 2 each on spot) are left 4 on-demand places short. For
        one-per-node workloads and one spot pool these rows, taken over all sets, are the max-flow condition
        of a plan's build (each is a cut); here A and B are prefixes of the orders that need the most."""
        ws = self.workloads
        if all(w.per_node() >= w.replicas for w in ws):
            return ()  # no workload needs more than one node: nothing to say beyond the demand row
        capped = sorted(
            range(len(ws)), key=lambda i: (-ws[i].replicas / ws[i].per_node(), -ws[i].replicas, i)
        )
        rows, cap, need = [], 0, 0
        prefixes: list[tuple[tuple[int, ...], int, int]] = [((), 0, 0)]
        for m, i in enumerate(capped):
            cap += ws[i].per_node()
            need += ws[i].replicas
            if cap < self.node_most:
                rows.append(NodeCount(cap, need, tuple(capped[: m + 1])))
                prefixes.append((tuple(capped[: m + 1]), cap, need))

        def beyond(w: Workload) -> int:
            return w.replicas - w.max_spot_cap()

        mixed = sorted(
            (i for i, w in enumerate(ws) if w.max_spot_cap() and beyond(w) > w.per_node()),
            key=lambda i: (-beyond(ws[i]) / ws[i].per_node(), -beyond(ws[i]), i),
        )
        for a, (members, spot, need) in enumerate(prefixes):
            if not _sampled(a, len(prefixes) - 1):
                continue
            rest = [i for i in mixed if i not in members]
            cap = spot
            for b, i in enumerate(rest, 1):
                cap += ws[i].per_node()
                need += beyond(ws[i])
                # Once on-demand nodes count all their pods, only the longest row (the strongest) is kept.
                saturated = cap >= self.node_most
                if (b == len(rest) and spot < self.spot_most) if saturated else _sampled(b, len(rest)):
                    rows.append(NodeCount(cap, need, members, tuple(rest[:b]), spot))
        return tuple(rows)

    def runs(
        self, base: float, nu: dict[tuple[int, int], float], k: int, most: int, spot: bool = False
    ) -> list[tuple[float, int]]:
        """What up to `most` pods of this class on one (spot) node are worth, as (value, pods) runs, best
        first: the j-th pod is worth `base` plus the price of each node-count row whose caps there admit a j-th."""
        priced = sorted(
            (row.cap_on(spot), v)
            for m, row in enumerate(self.spread)
            if (v := nu.get((k, m), 0.0)) > 0 and row.cap_on(spot) > 0
        )
        out, taken, extra = [], 0, sum(v for _, v in priced)
        for cap, v in priced:  # pods taken+1 .. cap still get this row's price, and every larger cap's
            if min(cap, most) > taken:
                out.append((base + extra, min(cap, most) - taken))
                taken = min(cap, most)
            extra -= v
        if most > taken:
            out.append((base + extra, most - taken))
        return out

    def base_value(self, k: int, o: Offering, duals: Duals) -> float:
        """A pod's worth on a node of `o` at `duals`, before node-count rows: its demand row's price, less
        the spot-share and spot-pool rows' on spot."""
        if o.capacity_type != "spot":
            return duals.pi[k]
        return duals.pi[k] - duals.sigma[k] - duals.rho.get((k, o.name), 0.0)

    def row_prices(self, nu: dict[tuple[int, int], float], k: int, spot: bool = False) -> list[float]:
        """Per workload, the prices of the node-count rows that count it on a spot (or an on-demand) node:
        what its pod is worth there above the class's."""
        out = [0.0] * len(self.workloads)
        for m, row in enumerate(self.spread):
            for i in row.counted(spot):
                out[i] += max(0.0, nu.get((k, m), 0.0))
        return out


def pod_classes(problem: PlanProblem, skip: set[str]) -> list[PodClass]:
    """The workloads not in `skip` grouped into classes (deterministic order)."""
    groups: dict[tuple[int, float, frozenset[str]], list[Workload]] = {}
    for w in problem.workloads:
        if w.replicas and w.name not in skip:
            allowed = frozenset(o.name for o in problem.offerings if w.allows(o) and w.fits(o))
            if allowed:
                groups.setdefault((w.cpu_m, w.memory_mib, allowed), []).append(w)
    return [
        PodClass(cpu, mem, allowed, tuple(ws))
        for (cpu, mem, allowed), ws in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1], sorted(kv[0][2]))
        )
    ]


@dataclass(frozen=True)
class Pattern:
    offering: Offering
    counts: tuple[tuple[int, int], ...]
    """(class index, pods) pairs, sorted."""

    @property
    def key(self) -> tuple[str, tuple[tuple[int, int], ...]]:
        """Equal keys, the same column."""
        return (self.offering.name, self.counts)


@dataclass
class Duals:
    pi: list[float]
    sigma: list[float]
    rho: dict[tuple[int, str], float] = field(default_factory=dict)
    nu: dict[tuple[int, int], float] = field(default_factory=dict)
    """(class, row index in `PodClass.spread`) -> price of that node-count row."""

    def scaled(self, theta: float) -> Duals:
        return Duals(
            [p * theta for p in self.pi],
            [s * theta for s in self.sigma],
            {k: r * theta for k, r in self.rho.items()},
            {k: v * theta for k, v in self.nu.items()},
        )


def node_items(o: Offering, classes: list[PodClass], duals: Duals) -> list[Item]:
    """The knapsack items of one node of `o`: each class allowed there, at its dual value; a class with
    priced node-count rows is a run of items of falling value (one key), the best taken first."""
    items = []
    for k, c in enumerate(classes):
        if o.name in c.offerings:
            spot = o.capacity_type == "spot"
            most = c.spot_most if spot else c.node_most
            for value, n in c.runs(c.base_value(k, o, duals), duals.nu, k, most, spot):
                items.append(Item(k, c.cpu_m, c.memory_mib, value, n))
    return items


def dual_objective(classes: list[PodClass], duals: Duals) -> float:
    total = sum(c.demand * p - c.spot_cap * s for c, p, s in zip(classes, duals.pi, duals.sigma, strict=True))
    total += sum(classes[k].spread[m].need * v for (k, m), v in duals.nu.items())
    return total - sum(classes[k].pool_cap * r for (k, _), r in duals.rho.items())


@dataclass
class ConfigurationLP:
    classes: list[PodClass]
    patterns: list[Pattern]
    usage: list[float]
    """Nodes of each pattern at the last master solve."""
    bound: float
    """Farley's bound at the best duals (this module's knapsack; the verifier re-derives it)."""
    duals: Duals
    """The best duals, scaled so that no node is worth more than its price."""
    certificate: ConfigurationCertificate
    converged: bool
    rounds: int
    offerings: list[Offering]
    """The offerings it was solved over (pruned of dominated ones by the planner)."""

    @cached_property
    def class_of(self) -> dict[str, int]:
        """Workload name -> index of its class."""
        return {w.name: k for k, c in enumerate(self.classes) for w in c.workloads}


def _certificate(classes: list[PodClass], duals: Duals) -> ConfigurationCertificate:
    cert = ConfigurationCertificate(pod_prices={})
    for k, c in enumerate(classes):
        # A workload's pod is worth its class's price plus its node-count rows': on any node the pods of a
        # row's workloads are at most min(the class's pods there, their caps), so no real node is worth more
        # to the verifier at these prices than to the class model here, and the bound is the same. A row
        # that counts a workload on on-demand nodes only adds its price to the workload's spot-share price
        # too: its spot pods are worth what they were, and the bound gains the price x (replicas - spot cap).
        extra = c.row_prices(duals.nu, k)
        spot_extra = c.row_prices(duals.nu, k, spot=True)
        for i, w in enumerate(c.workloads):
            cert.pod_prices[w.name] = max(0.0, duals.pi[k]) + extra[i]
            if (share := duals.sigma[k] + extra[i] - spot_extra[i]) > 0:
                cert.spot_share_prices[w.name] = share
            for (kk, o), r in duals.rho.items():
                if kk == k and r > 0 and w.max_spot_cap():
                    cert.pool_prices.setdefault(w.name, {})[o] = r
    return cert


class _Master:
    """The restricted master LP, grown a column at a time. `branches` bounds the node count of offerings
    (offering name -> (at least, at most or None)): branch and price's rows, with duals in `branch_duals`."""

    def __init__(
        self,
        classes: list[PodClass],
        offerings: list[Offering],
        branches: dict[str, tuple[int, int | None]] | None = None,
    ):
        self.classes = classes
        spot_names = {o.name for o in offerings if o.capacity_type == "spot"}
        self.spot_row: dict[int, int] = {}
        self.pool_row: dict[tuple[int, str], int] = {}
        lower = [float(c.demand) for c in classes]
        upper = [highspy.kHighsInf] * len(classes)
        for k, c in enumerate(classes):
            pools = sorted(c.offerings & spot_names)
            if pools and c.spot_cap < c.demand:
                self.spot_row[k] = len(lower)
                lower.append(-highspy.kHighsInf)
                upper.append(float(c.spot_cap))
            if pools and c.pool_cap < min(c.spot_cap, c.demand):
                for o in pools:
                    self.pool_row[(k, o)] = len(lower)
                    lower.append(-highspy.kHighsInf)
                    upper.append(float(c.pool_cap))
        self.spread_row: dict[tuple[int, int], int] = {}  # (class, node-count row) -> LP row
        for k, c in enumerate(classes):
            for m, nc in enumerate(c.spread):
                self.spread_row[(k, m)] = len(lower)
                lower.append(float(nc.need))
                upper.append(highspy.kHighsInf)
        self.branch_row: dict[str, int] = {}
        for name, (least, most) in sorted((branches or {}).items()):
            self.branch_row[name] = len(lower)
            lower.append(float(least))
            upper.append(highspy.kHighsInf if most is None else float(most))
        self.branch_duals: dict[str, float] = {}
        self.h = quiet_highs()
        big = 10.0 * max((o.usd_per_hour for o in offerings), default=1.0) + 1.0
        lp = highspy.HighsLp()
        n = len(classes)  # one artificial column per class keeps the master feasible (costly, never used)
        lp.num_col_, lp.num_row_ = n, len(lower)
        lp.col_cost_ = np.full(n, big)
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.full(n, highspy.kHighsInf)
        lp.row_lower_, lp.row_upper_ = np.array(lower), np.array(upper)
        # each also counts on its class's node-count rows (one pod, wherever it stands)
        rows = [[k] + [self.spread_row[(k, m)] for m in range(len(c.spread))] for k, c in enumerate(classes)]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.cumsum([0] + [len(r) for r in rows]).astype(np.int32)
        lp.a_matrix_.index_ = np.array([x for r in rows for x in r], dtype=np.int32)
        lp.a_matrix_.value_ = np.ones(sum(len(r) for r in rows))
        self.h.passModel(lp)
        self.patterns: list[Pattern] = []
        self.seen: set[tuple[str, tuple[tuple[int, int], ...]]] = set()
        # an empty node of an offering branched up: real (if idle), so a lower end never bars a solution
        by_name = {o.name: o for o in offerings}
        for name, (least, _) in sorted((branches or {}).items()):
            if least > 0:
                self._column(Pattern(by_name[name], ()))

    def add(self, p: Pattern) -> bool:
        if p.key in self.seen or not p.counts:
            return False
        self.seen.add(p.key)
        self._column(p)
        return True

    def _column(self, p: Pattern) -> None:
        self.patterns.append(p)
        idx: list[int] = []
        val: list[float] = []
        for k, a in p.counts:
            idx.append(k)
            val.append(float(a))
            for m, nc in enumerate(self.classes[k].spread):
                if cap := nc.cap_on(p.offering.capacity_type == "spot"):
                    idx.append(self.spread_row[(k, m)])
                    val.append(float(min(a, cap)))
            if p.offering.capacity_type == "spot":
                for row in (self.spot_row.get(k), self.pool_row.get((k, p.offering.name))):
                    if row is not None:
                        idx.append(row)
                        val.append(float(a))
        if p.offering.name in self.branch_row:
            idx.append(self.branch_row[p.offering.name])
            val.append(1.0)
        self.h.addCol(
            p.offering.usd_per_hour,
            0.0,
            highspy.kHighsInf,
            len(idx),
            np.array(idx, dtype=np.int32),
            np.array(val),
        )

    def solve(self) -> tuple[Duals, list[float]]:
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                "configuration master not solved: " + self.h.modelStatusToString(self.h.getModelStatus())
            )
        sol = self.h.getSolution()
        row = list(sol.row_dual)
        duals = Duals(
            [max(0.0, row[k]) for k in range(len(self.classes))],
            [
                max(0.0, -row[self.spot_row[k]]) if k in self.spot_row else 0.0
                for k in range(len(self.classes))
            ],
            {key: max(0.0, -row[r]) for key, r in self.pool_row.items() if -row[r] > 0},
            {key: max(0.0, row[r]) for key, r in self.spread_row.items() if row[r] > 0},
        )
        self.branch_duals = {name: row[r] for name, r in self.branch_row.items()}
        usage = list(sol.col_value)[len(self.classes) :]
        return duals, usage


def seed_patterns(classes: list[PodClass], offerings: list[Offering], seeds: list[OpenNode]) -> list[Pattern]:
    """Columns to start from: the given plan's nodes, and per class its cheapest single-class node."""
    of_workload = {w.name: k for k, c in enumerate(classes) for w in c.workloads}
    out = []
    for node in seeds:
        counts: dict[int, int] = {}
        for name, n in node.counts.items():
            if n and name in of_workload:
                counts[of_workload[name]] = counts.get(of_workload[name], 0) + n
        out.append(Pattern(node.offering, tuple(sorted(counts.items()))))
    for k, c in enumerate(classes):
        best: tuple[float, Pattern] | None = None
        for o in offerings:
            if o.name not in c.offerings:
                continue
            n = min(c.spot_most if o.capacity_type == "spot" else c.node_most, o.max_pods)
            if c.cpu_m:
                n = min(n, int((o.cpu_m + 1e-6) // c.cpu_m))
            if c.memory_mib:
                n = min(n, int((o.memory_mib + 1e-6) // c.memory_mib))
            if n and (best is None or o.usd_per_hour / n < best[0]):
                best = (o.usd_per_hour / n, Pattern(o, ((k, n),)))
        if best is not None:
            out.append(best[1])
    return out


def solve_configuration(
    problem: PlanProblem, skip: set[str], seeds: list[OpenNode], max_rounds: int = 40
) -> ConfigurationLP:
    """Column generation over `problem.offerings` (pass them pruned of dominated ones) until no load is worth
    more than its node, or `max_rounds` pricing rounds (each prices every offering); the bound is valid
    either way. Rounds, not seconds, so the same input gives the same bound on a busy machine."""
    classes = pod_classes(problem, skip)
    master = _Master(classes, problem.offerings)
    for p in seed_patterns(classes, problem.offerings, seeds):
        master.add(p)
    best_bound, best_duals = 0.0, Duals([0.0] * len(classes), [0.0] * len(classes))
    converged, rounds, usage = False, 0, [0.0] * len(master.patterns)
    while rounds < max_rounds:
        rounds += 1
        duals, usage = master.solve()
        theta, new = 1.0, []
        for o in problem.offerings:
            worth, cap, counts = best_load(
                Node(o.cpu_m, o.memory_mib, o.max_pods),
                node_items(o, classes, duals),
                rel_tol=1e-4,
                target=o.usd_per_hour,
            )
            if cap > o.usd_per_hour:
                theta = min(theta, o.usd_per_hour / cap)
            if worth > o.usd_per_hour * (1 + 1e-9) + 1e-12:
                new.append(Pattern(o, tuple(sorted(counts.items()))))
        bound = theta * dual_objective(classes, duals)
        if bound > best_bound:
            best_bound, best_duals = bound, duals.scaled(theta * (1 - 1e-12))
        if not sum(master.add(p) for p in new):
            converged = not new
            break
    if len(usage) != len(master.patterns):  # columns added since the last solve
        _, usage = master.solve()
    return ConfigurationLP(
        classes=classes,
        patterns=master.patterns,
        usage=usage,
        bound=best_bound,
        duals=best_duals,
        certificate=_certificate(classes, best_duals),
        converged=converged,
        rounds=rounds,
        offerings=list(problem.offerings),
    )


def fixing(
    cfg: ConfigurationLP, offerings: list[Offering]
) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """At the certificate's prices: each offering's reduced cost (price - a proven cap on a node's worth; a
    plan costs at least the bound + the reduced costs of its nodes) and each (workload, offering) pod value."""
    rcs: dict[str, float] = {}
    values: dict[tuple[str, str], float] = {}
    for o in offerings:
        _, cap, _ = best_load(Node(o.cpu_m, o.memory_mib, o.max_pods), node_items(o, cfg.classes, cfg.duals))
        rcs[o.name] = max(0.0, o.usd_per_hour - cap)
        for k, c in enumerate(cfg.classes):
            if o.name in c.offerings:  # as in the certificate: the class's price + its node-count rows'
                base = c.base_value(k, o, cfg.duals)
                rows = c.row_prices(cfg.duals.nu, k, o.capacity_type == "spot")
                for w, extra in zip(c.workloads, rows, strict=True):
                    values[(w.name, o.name)] = base + extra
    return rcs, values


def reduced_cost(cfg: ConfigurationLP, node: OpenNode) -> float:
    """What `node` costs above what its pods are worth at the LP's prices (demand, spot and node-count
    rows). A plan costs the bound plus its nodes' reduced costs plus what its rows leave slack, so the nodes
    with the largest reduced costs are where a plan loses most against the bound."""
    per_class: dict[int, int] = {}
    for name, n in node.counts.items():
        if n and (k := cfg.class_of.get(name)) is not None:
            per_class[k] = per_class.get(k, 0) + n
    worth, spot = 0.0, node.offering.capacity_type == "spot"
    for k, a in per_class.items():
        c = cfg.classes[k]
        worth += a * c.base_value(k, node.offering, cfg.duals)
        for m, row in enumerate(c.spread):
            if (v := cfg.duals.nu.get((k, m), 0.0)) > 0:
                held = sum(node.counts.get(c.workloads[i].name, 0) for i in row.counted(spot))
                worth += v * min(row.cap_on(spot), held)
    return node.offering.usd_per_hour - worth
