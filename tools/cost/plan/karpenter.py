"""A Karpenter-like provisioning simulation: pending pods, NodePools, and the NodeClaims formed for them.

As Karpenter's scheduler does it: pods go in order of CPU then memory, largest first. A pod joins the first
NodeClaim being formed that can still take it (some remaining instance type holds all its pods, the pod's
selectors, affinity, tolerations, anti-affinity and topology spread allow it), narrowing that claim's
instance types; otherwise it opens a claim from the highest-weight NodePool that can hold it, within the
pool's limits. Claims stay open to later pods until every pod is placed, then each launches the cheapest
instance type it has left. Topology spread narrows a claim to the zone (or capacity type) with the fewest of
the workload's pods among those within the skew.

Two uses: the baseline (one pool with every offering, spot caps kept by a ledger, so its plan is valid and
comparable), and checking that a NodePool proposal reproduces a plan (its pools, taints, limits and the
workload patches it proposes, spot shares kept by a capacity-type spread as Karpenter would keep them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tools.cost.plan.packing import OpenNode, SpotLedger
from verifiers.cost.model import Offering, PlannedNode, PlanProblem, Workload
from verifiers.cost.placeable import eligible_zones
from verifiers.cost.scheduling import ZONE_LABEL, Taint, tolerates_all

__all__ = ["NodePoolSpec", "simulate"]


@dataclass(frozen=True)
class NodePoolSpec:
    """What the simulation reads of a NodePool: its offerings (requirements applied), zones, taints,
    weight and limits."""

    name: str
    offerings: tuple[Offering, ...]
    zones: tuple[str, ...] = ()
    taints: tuple[Taint, ...] = ()
    weight: int = 0
    cpu_limit_m: float | None = None
    memory_limit_mib: float | None = None


@dataclass
class _Claim:
    pool: NodePoolSpec
    candidates: list[Offering]
    zones: list[str]
    node: OpenNode
    capacity: str | None = None
    """Fixed by a capacity-type spread (None: either)."""
    room: tuple[float, float, int] = (0.0, 0.0, 0)
    """The largest CPU, memory and pod count among the candidates: a quick test before narrowing."""

    @property
    def cheapest(self) -> Offering:
        return self.candidates[0]

    def set_candidates(self, offerings: list[Offering]) -> None:
        self.candidates = sorted(offerings, key=lambda o: (o.usd_per_hour, o.name))
        self.room = (
            max(o.cpu_m for o in offerings),
            max(o.memory_mib for o in offerings),
            max(o.max_pods for o in offerings),
        )


@dataclass
class _State:
    problem: PlanProblem
    pools: list[NodePoolSpec]
    ledger: SpotLedger | None
    capacity_skew: dict[str, int]
    claims: list[_Claim] = field(default_factory=list)
    zone_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    capacity_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_name: dict[str, Workload] = field(default_factory=dict)
    allowed: dict[str, set[str]] = field(default_factory=dict)
    """Workload -> the offerings (of every pool) it may run on and fits, zones aside."""
    domains: dict[str, list[str]] = field(default_factory=dict)
    """Workload -> the zones of its topology spread."""

    def __post_init__(self) -> None:
        self.by_name = self.problem.workload_by_name()
        every = {o.name: o for p in self.pools for o in p.offerings}
        for w in self.problem.workloads:
            hosts = [o for o in every.values() if w.allows(o) and w.fits(o)]
            self.allowed[w.name] = {o.name for o in hosts}
            self.domains[w.name] = eligible_zones(w, hosts, self.problem.zones)

    def used(self, pool: NodePoolSpec, skip: _Claim | None = None) -> tuple[float, float]:
        claims = [c for c in self.claims if c.pool is pool and c is not skip]
        return (sum(c.cheapest.cpu_m for c in claims), sum(c.cheapest.memory_mib for c in claims))


def _fits(o: Offering, node: OpenNode, w: Workload) -> bool:
    return (
        node.cpu_m + w.cpu_m <= o.cpu_m
        and node.memory_mib + w.memory_mib <= o.memory_mib + 1e-6
        and node.pods + 1 <= o.max_pods
    )


def _within_limits(state: _State, pool: NodePoolSpec, claim: _Claim | None) -> Callable[[Offering], bool]:
    """A test of whether a node of an offering keeps the pool within its limits (with the claim's own node
    counted as that offering)."""
    if pool.cpu_limit_m is None and pool.memory_limit_mib is None:
        return lambda o: True
    cpu, mem = state.used(pool, claim)
    cpu_limit = pool.cpu_limit_m if pool.cpu_limit_m is not None else float("inf")
    mem_limit = pool.memory_limit_mib if pool.memory_limit_mib is not None else float("inf")
    return lambda o: cpu + o.cpu_m <= cpu_limit and mem + o.memory_mib <= mem_limit


def _spot_ok(state: _State, claim: _Claim | None, o: Offering, w: Workload, counts: Counter[str]) -> bool:
    """With a ledger: moving the claim's pods (plus one of `w`) onto `o` keeps every spot cap."""
    if state.ledger is None or o.capacity_type != "spot":
        return True
    mine = claim is not None and claim.cheapest.capacity_type == "spot"
    pool = o.name
    same = mine and claim is not None and claim.cheapest.name == pool
    total, pools = state.ledger.total, state.ledger.pools
    for name in {*counts, w.name}:
        v = state.by_name[name]
        n = counts[name] + (name == w.name)
        if total[name] - (counts[name] if mine else 0) + n > v.max_spot_cap():
            return False
        if pools[(name, pool)] - (counts[name] if same else 0) + n > v.pool_cap():
            return False
    return True


def _zones_for(state: _State, w: Workload, zones: list[str]) -> list[str]:
    """The zones (of `zones`) a pod of `w` may go to now: allowed, within its per-zone cap and its spread."""
    if not state.problem.zones:
        return zones
    out = [z for z in zones if w.max_per_zone is None or state.zone_counts[(w.name, z)] < w.max_per_zone]
    if w.zone_max_skew is not None:
        domains = state.domains[w.name]
        low = min((state.zone_counts[(w.name, z)] for z in domains), default=0)
        out = [z for z in out if state.zone_counts[(w.name, z)] + 1 - low <= w.zone_max_skew]
        out.sort(key=lambda z: (state.zone_counts[(w.name, z)], z))  # the emptiest domain first
    return out


def _capacities_for(state: _State, w: Workload) -> list[str] | None:
    """The capacity types a pod of `w` may take now, preferred first (None: either). With the spot caps
    kept, a spot-allowed workload's pods go to spot until its cap (as a capacity-type spread that gives spot
    its share would place them); otherwise a capacity-type spread's domains within its skew, emptiest first."""
    if state.ledger is not None:
        if not w.max_spot_cap() or not any(
            o.capacity_type == "spot" and o.name in state.allowed[w.name]
            for p in state.pools
            for o in p.offerings
        ):
            return None
        return ["spot"] if state.ledger.total[w.name] < w.max_spot_cap() else ["on-demand"]
    skew = state.capacity_skew.get(w.name)
    if skew is None:
        return None
    kinds = ["on-demand", "spot"] if w.spot_allowed else ["on-demand"]
    low = min(state.capacity_counts[(w.name, k)] for k in kinds)
    ok = [k for k in kinds if state.capacity_counts[(w.name, k)] + 1 - low <= skew]
    return sorted(ok, key=lambda k: state.capacity_counts[(w.name, k)])


def _zoned_rules(w: Workload) -> bool:
    """Whether `w` has selector or affinity rules on the zone label (then zones are checked per offering)."""
    return ZONE_LABEL in w.node_selector or any(r.key == ZONE_LABEL for t in w.node_affinity for r in t)


def _blocked(node: OpenNode, w: Workload, by_name: dict[str, Workload]) -> bool:
    if node.counts[w.name] >= w.per_node():
        return True
    if any(node.counts.get(o) for o in w.separate_from):
        return True
    return any(w.name in by_name[o].separate_from for o in node.counts if o in by_name)


def _narrow(state: _State, claim: _Claim | None, pool: NodePoolSpec, w: Workload, cands: list[Offering],
            zones: list[str], node: OpenNode) -> tuple[list[Offering], list[str]] | None:  # fmt: skip
    if not tolerates_all(w.tolerations, pool.taints):
        return None
    allowed = state.allowed[w.name]
    limited = _within_limits(state, pool, claim)
    kept = [
        o
        for o in cands
        if o.name in allowed
        and _fits(o, node, w)
        and limited(o)
        and _spot_ok(state, claim, o, w, node.counts)
    ]
    capacities = _capacities_for(state, w)
    if capacities is not None:
        if claim is not None and claim.capacity is not None:
            capacities = [c for c in capacities if c == claim.capacity]
        kept = [o for o in kept if o.capacity_type in capacities[:1]] or [
            o for o in kept if o.capacity_type in capacities
        ]
    zoned = _zones_for(state, w, zones) if zones else []
    if zoned and _zoned_rules(w):
        zoned = [z for z in zoned if any(w.allows(o, z) for o in kept)]
    if not kept or (state.problem.zones and not zoned):
        return None
    return kept, zoned


def _add(state: _State, claim: _Claim, w: Workload, kept: list[Offering], zones: list[str]) -> None:
    if state.ledger is not None and claim.node.pods and claim.cheapest.capacity_type == "spot":
        for name, n in claim.node.counts.items():
            state.ledger.add(state.by_name[name], claim.cheapest, -n)
    claim.set_candidates(kept)
    if w.zone_max_skew is not None or w.max_per_zone is not None:
        zones = zones[:1]  # a spread pins the claim to the emptiest allowed zone
    claim.zones = zones
    claim.node.add(w)
    if state.capacity_skew.get(w.name) is not None:
        claim.capacity = claim.cheapest.capacity_type
        state.capacity_counts[(w.name, claim.capacity)] += 1
    if len(claim.zones) == 1:
        state.zone_counts[(w.name, claim.zones[0])] += 1
    if state.ledger is not None and claim.cheapest.capacity_type == "spot":
        for name, n in claim.node.counts.items():
            state.ledger.add(state.by_name[name], claim.cheapest, n)


def _place(state: _State, w: Workload) -> bool:
    for claim in state.claims:
        node, (cpu, mem, pods) = claim.node, claim.room
        if node.cpu_m + w.cpu_m > cpu or node.memory_mib + w.memory_mib > mem + 1e-6 or node.pods >= pods:
            continue
        if _blocked(node, w, state.by_name):
            continue
        narrowed = _narrow(state, claim, claim.pool, w, claim.candidates, claim.zones, claim.node)
        if narrowed is not None:
            if len(claim.zones) > 1 and len(narrowed[1]) == 1:  # pinned now: count the pods already on it
                for name, n in claim.node.counts.items():
                    state.zone_counts[(name, narrowed[1][0])] += n
            _add(state, claim, w, *narrowed)
            return True
    for pool in sorted(state.pools, key=lambda p: (-p.weight, p.name)):
        if not pool.offerings:
            continue
        node = OpenNode(pool.offerings[0])
        zones = list(pool.zones or state.problem.zones)
        narrowed = _narrow(state, None, pool, w, list(pool.offerings), zones, node)
        if narrowed is None:
            continue
        claim = _Claim(pool, narrowed[0], [], node)
        state.claims.append(claim)
        _add(state, claim, w, *narrowed)
        return True
    return False


def simulate(
    problem: PlanProblem,
    pools: list[NodePoolSpec],
    keep_spot_caps: bool = True,
    capacity_skew: dict[str, int] | None = None,
) -> tuple[list[PlannedNode], dict[str, int]]:
    """The nodes Karpenter would launch for `problem`'s pods under `pools`, and the pods left pending.
    `keep_spot_caps`: hold each workload's spot share and pools as a plan must (the baseline); without it,
    `capacity_skew[workload]` is the maxSkew of a spread over `karpenter.sh/capacity-type`."""
    state = _State(problem, pools, SpotLedger() if keep_spot_caps else None, capacity_skew or {})
    pending: Counter[str] = Counter()
    pods = sorted(
        (w for w in problem.workloads for _ in range(w.replicas)),
        key=lambda w: (-w.cpu_m, -w.memory_mib, w.name),
    )
    for w in pods:
        if not _place(state, w):
            pending[w.name] += 1
    nodes = []
    per_zone = Counter(c.zones[0] for c in state.claims if len(c.zones) == 1)
    for claim in state.claims:
        zone = claim.zones[0] if claim.zones else ""
        if len(claim.zones) > 1:  # an unpinned claim goes to its zone with the fewest nodes so far
            zone = min(claim.zones, key=lambda z: (per_zone[z], z))
            per_zone[zone] += 1
        counts = dict(sorted(claim.node.counts.items()))
        nodes.append(PlannedNode(offering=claim.cheapest.name, pods=counts, zone=zone))
    return nodes, dict(pending)
