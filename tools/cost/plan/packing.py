"""Mutable packing state shared by the planners: open nodes and the spot ledger."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from verifiers.cost.model import Offering, Plan, PlannedNode, PlanProblem, Workload
from verifiers.cost.placeable import placeable

__all__ = ["OpenNode", "SpotLedger", "open_nodes", "placeable_problem", "prune_dominated"]


@dataclass
class OpenNode:
    offering: Offering
    cpu_m: float = 0.0
    memory_mib: float = 0.0
    pods: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    """Workloads the pods here keep away (anti-affinity), with how many pods ask it."""
    zone: str = ""

    def room_for(self, w: Workload, n: int = 1) -> int:
        """How many of `n` more pods of `w` fit on this node (resources, its per-node cap, anti-affinity)."""
        o = self.offering
        best = min(n, o.max_pods - self.pods, w.per_node() - self.counts[w.name])
        if self.blocked[w.name] or any(self.counts[other] for other in w.separate_from):
            return 0
        if w.cpu_m:
            best = min(best, int((o.cpu_m - self.cpu_m + 1e-6) // w.cpu_m))
        if w.memory_mib:
            best = min(best, int((o.memory_mib - self.memory_mib + 1e-6) // w.memory_mib))
        return max(0, best)

    def add(self, w: Workload, n: int = 1) -> None:
        self.cpu_m += w.cpu_m * n
        self.memory_mib += w.memory_mib * n
        self.pods += n
        self.counts[w.name] += n
        for other in w.separate_from:
            self.blocked[other] += n
            if not self.blocked[other]:
                del self.blocked[other]

    def remove(self, w: Workload, n: int = 1) -> None:
        self.add(w, -n)
        if self.counts[w.name] == 0:
            del self.counts[w.name]

    def copy(self) -> OpenNode:
        """An independent node with the same pods and zone."""
        return OpenNode(
            self.offering,
            self.cpu_m,
            self.memory_mib,
            self.pods,
            Counter(self.counts),
            Counter(self.blocked),
            self.zone,
        )

    def utilisation(self) -> float:
        o = self.offering
        return max(self.cpu_m / o.cpu_m, self.memory_mib / o.memory_mib, self.pods / o.max_pods)

    def to_planned(self) -> PlannedNode:
        return PlannedNode(
            offering=self.offering.name,
            pods={k: v for k, v in sorted(self.counts.items()) if v},
            zone=self.zone,
        )


def open_nodes(problem: PlanProblem, plan: Plan) -> list[OpenNode]:
    """A plan's nodes as open nodes of `problem` (to improve on, or to seed a search with)."""
    offerings, works = problem.offering_by_name(), problem.workload_by_name()
    nodes = []
    for pn in plan.nodes:
        node = OpenNode(offerings[pn.offering], zone=pn.zone)
        for name, n in pn.pods.items():
            node.add(works[name], n)
        nodes.append(node)
    return nodes


@dataclass
class SpotLedger:
    """Spot pods placed so far per workload and per (workload, pool): enforces the spot caps."""

    total: Counter[str] = field(default_factory=Counter)
    pools: Counter[tuple[str, str]] = field(default_factory=Counter)

    def room(self, w: Workload, o: Offering) -> int:
        """How many more pods of `w` the spot caps allow on `o` (unbounded for on-demand)."""
        if o.capacity_type != "spot":
            return 1 << 30
        return max(0, min(w.max_spot_cap() - self.total[w.name], w.pool_cap() - self.pools[(w.name, o.name)]))

    @classmethod
    def holding(cls, nodes: list[OpenNode], by_name: dict[str, Workload]) -> SpotLedger:
        """The ledger of the spot pods already on `nodes`."""
        ledger = cls()
        for node in nodes:
            for name, n in node.counts.items():
                ledger.add(by_name[name], node.offering, n)
        return ledger

    def copy(self) -> SpotLedger:
        """An independent ledger with the same counts (keys are immutable: no deep copy needed)."""
        return SpotLedger(Counter(self.total), Counter(self.pools))

    def add(self, w: Workload, o: Offering, n: int = 1) -> None:
        if o.capacity_type == "spot":
            self.total[w.name] += n
            self.pools[(w.name, o.name)] += n


def placeable_problem(problem: PlanProblem) -> tuple[PlanProblem, dict[str, int], dict[str, str]]:
    """The problem with every workload cut to the pods its constraints let run (`verifiers.cost.placeable`),
    and the pods left over per workload with the reason. A cut workload keeps its spot caps as counts."""
    works: list[Workload] = []
    lost: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for w in problem.workloads:
        can = placeable(problem, w)
        if can.count >= w.replicas:
            works.append(w)
            continue
        lost[w.name], reasons[w.name] = w.replicas - can.count, can.reason
        if can.count:
            works.append(
                w.model_copy(
                    update={"replicas": can.count, "max_spot_share": 1.0, "spot_cap": w.max_spot_cap(),
                            "min_spot_pools": 1, "spot_pool_cap": w.pool_cap()}
                )
            )  # fmt: skip
    return PlanProblem(workloads=works, offerings=problem.offerings, zones=problem.zones), lost, reasons


def prune_dominated(problem: PlanProblem) -> PlanProblem:
    """Drop offerings another one beats on every count (capacity and price) for every workload that allows
    them. Exactness is kept: a node of a dropped offering can always be swapped for its dominator."""
    works = [w for w in problem.workloads if w.replicas]
    pool_bound = any(w.pool_cap() < w.replicas for w in works if w.spot_allowed)
    zones: list[str | None] = list(problem.zones) or [None]
    allowed = {
        o.name: frozenset((w.name, z) for w in works for z in zones if w.allows(o, z) and w.fits(o))
        for o in problem.offerings
    }

    def beats(a: Offering, b: Offering) -> bool:
        ge = a.cpu_m >= b.cpu_m and a.memory_mib >= b.memory_mib and a.max_pods >= b.max_pods
        return (
            ge
            and a.capacity_type == b.capacity_type
            and a.usd_per_hour <= b.usd_per_hour
            and allowed[a.name] >= allowed[b.name]
            and (a.usd_per_hour, a.name) < (b.usd_per_hour, b.name)
        )

    keep = [
        b
        for b in problem.offerings
        if allowed[b.name]
        and ((b.capacity_type == "spot" and pool_bound) or not any(beats(a, b) for a in problem.offerings))
    ]
    return PlanProblem(workloads=problem.workloads, offerings=keep, zones=problem.zones)
