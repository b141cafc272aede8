"""Zones for a plan's nodes: every pod allowed in its node's zone, per-zone caps and zone spreads kept.

Prices are the same in every zone of a region (the catalogs have no per-zone prices), so the planners pack
without zones and this step places the nodes: CP-SAT chooses a zone per node that breaks as few rules as it
can (limited by deterministic time). Where the packing makes a rule impossible (say, two pods of a
workload spread over three zones share a node), the pods that break it move to nodes, existing or new, in
the zones that need them. Without zone rules, nodes are spread evenly over the zones.
"""

from __future__ import annotations

from collections import Counter

from ortools.sat.python import cp_model

from tools.cost.plan.packing import OpenNode, SpotLedger
from tools.cost.plan.work import deterministic
from verifiers.cost.model import PlanProblem, Workload
from verifiers.cost.placeable import eligible_zones
from verifiers.cost.scheduling import ZONE_LABEL

__all__ = ["assign_zones", "has_zone_rules", "names_zone"]

# After the greedy zone choice (`_greedy`): at most this many passes of single-node moves and swaps, and
# this many swaps tried in all (a swap is tried per pair of nodes: quadratic in the nodes).
_PASSES = 20
_SWAP_TRIES = 20_000


def names_zone(w: Workload) -> bool:
    """Whether `w`'s node selector or affinity names the zone label."""
    return ZONE_LABEL in w.node_selector or any(r.key == ZONE_LABEL for term in w.node_affinity for r in term)


def has_zone_rules(w: Workload) -> bool:
    """Whether where `w`'s pods run depends on zones: per-zone caps, zone spreads, zone selectors."""
    return w.max_per_zone is not None or w.zone_max_skew is not None or names_zone(w)


def _node_zones(problem: PlanProblem, node: OpenNode, by_name: dict[str, Workload]) -> list[str]:
    return [z for z in problem.zones if all(by_name[w].allows(node.offering, z) for w in node.counts)]


def _domains(problem: PlanProblem, w: Workload) -> list[str]:
    """The zones `w`'s spread counts: those where some offering it may use can run it."""
    return eligible_zones(w, [o for o in problem.offerings if w.allows(o) and w.fits(o)], problem.zones)


def _broken(w: Workload, count: Counter[str], domains: list[str]) -> int:
    """How far `w`'s pods per zone are from its per-zone cap and its zone spread (0: both kept)."""
    out = 0
    if w.max_per_zone is not None:
        out += sum(max(0, count[z] - w.max_per_zone) for z in count)
    if w.zone_max_skew is not None and domains:
        out += max(0, max(count[z] for z in domains) - min(count[z] for z in domains) - w.zone_max_skew)
    return out


def _greedy(
    problem: PlanProblem,
    nodes: list[OpenNode],
    ruled: list[Workload],
    allowed: list[list[str]],
    domains: dict[str, list[str]],
) -> list[str]:
    """A zone per node without CP-SAT: nodes with the most ruled pods first, each to the allowed zone where
    its ruled workloads have the fewest pods so far; then single nodes move to another zone, and when no
    move helps, pairs of nodes swap zones, while the rules they touch get better (fewer broken, then more
    even). It is CP-SAT's start and its fallback: with hundreds of nodes CP-SAT may find nothing as good in
    its time, and every rule left broken costs new nodes in the repair (10,000 pods with the availability
    rules: CP-SAT alone broke spreads by 3,640 pods, and 406.8 $/h of nodes became 546.4)."""
    by_name = {w.name: w for w in ruled}
    held: dict[str, Counter[str]] = {w.name: Counter({z: 0 for z in problem.zones}) for w in ruled}
    per_zone: Counter[str] = Counter()  # nodes a zone, to break ties in the first placement
    on = [[(w.name, n.counts[w.name]) for w in ruled if n.counts[w.name]] for n in nodes]
    order = sorted(range(len(nodes)), key=lambda i: (-sum(c for _, c in on[i]), i))
    out = [""] * len(nodes)
    for i in order:
        z = min(allowed[i], key=lambda z: (sum(c * held[name][z] for name, c in on[i]), per_zone[z], z))
        for name, c in on[i]:
            held[name][z] += c
        per_zone[z] += 1
        out[i] = z

    def cost(name: str) -> int:
        """Broken rules first, then how unevenly the workload's pods lie (a slope out of flat stretches)."""
        count = held[name]
        return 10_000 * _broken(by_name[name], count, domains[name]) + sum(
            count[z] ** 2 for z in domains[name]
        )

    def change(i: int, z: str) -> int:
        """What moving node i to zone z does to the rules it touches (negative: better)."""
        delta = 0
        for name, c in on[i]:
            count = held[name]
            before = cost(name)
            count[out[i]] -= c
            count[z] += c
            delta += cost(name) - before
            count[z] -= c
            count[out[i]] += c
        return delta

    def move(i: int, z: str) -> None:
        for name, c in on[i]:
            held[name][out[i]] -= c
            held[name][z] += c
        out[i] = z

    def swap(i: int, j: int) -> int:
        """What exchanging the zones of nodes i and j does to the rules (negative: fewer broken)."""
        zi, zj = out[i], out[j]
        delta = change(i, zj)
        move(i, zj)
        delta += change(j, zi)
        move(i, zi)
        return delta

    tries = 0
    for _ in range(_PASSES):
        moved = False
        for i in order:
            best = min(((change(i, z), z) for z in allowed[i] if z != out[i]), default=(0, out[i]))
            if on[i] and best[0] < 0:
                move(i, best[1])
                moved = True
        if moved:
            continue
        # No single move helps: swap a node touching a broken rule with one in another zone (each may go
        # to the other's zone), which keeps the nodes per zone and can fix two spreads at once.
        broken = {name for name in held if _broken(by_name[name], held[name], domains[name])}
        for i in order:
            if not any(name in broken for name, _ in on[i]) or tries >= _SWAP_TRIES:
                continue
            best_j, gain = -1, 0
            for j in order:
                ok = out[j] != out[i] and out[j] in allowed[i] and out[i] in allowed[j]
                if ok and tries < _SWAP_TRIES:
                    tries += 1
                    if (d := swap(i, j)) < gain:
                        best_j, gain = j, d
            if best_j >= 0:
                zi = out[i]
                move(i, out[best_j])
                move(best_j, zi)
                moved = True
        if not moved:
            break
    return out


def _choose(problem: PlanProblem, nodes: list[OpenNode], ruled: list[Workload], dtime: float) -> list[str]:
    """A zone per node, breaking as few zone rules as CP-SAT finds, then spreading nodes evenly."""
    by_name = problem.workload_by_name()
    zones = problem.zones
    m = cp_model.CpModel()
    x: list[dict[str, cp_model.IntVar]] = []
    penalties: list[cp_model.IntVar] = []
    for i, node in enumerate(nodes):
        ok = _node_zones(problem, node, by_name) or zones  # none fits: the repair moves its pods
        x.append({z: m.new_bool_var(f"x[{i},{z}]") for z in ok})
        m.add_exactly_one(x[i].values())
    total = sum(n.counts[w.name] for n in nodes for w in ruled)
    domains = {w.name: _domains(problem, w) for w in ruled}
    for w in ruled:
        holders = [(i, n.counts[w.name]) for i, n in enumerate(nodes) if n.counts[w.name]]
        count = {z: sum(c * x[i][z] for i, c in holders if z in x[i]) for z in zones}
        if w.max_per_zone is not None:
            for z in zones:
                over = m.new_int_var(0, total, f"over[{w.name},{z}]")
                m.add(count[z] <= w.max_per_zone + over)
                penalties.append(over)
        if w.zone_max_skew is not None:
            low = m.new_int_var(0, total, f"low[{w.name}]")
            for z in domains[w.name]:
                gap = m.new_int_var(0, total, f"skew[{w.name},{z}]")
                m.add(count[z] >= low)
                m.add(count[z] <= low + w.zone_max_skew + gap)
                penalties.append(gap)
    most = m.new_int_var(0, len(nodes), "most")
    for z in zones:
        m.add(sum(v[z] for v in x if z in v) <= most)
    m.minimize(
        cp_model.LinearExpr.weighted_sum([*penalties, most], [len(nodes) * 1000] * len(penalties) + [1])
    )
    start = _greedy(problem, nodes, ruled, [list(v) for v in x], domains)
    for v, z in zip(x, start, strict=True):
        for zone, var in v.items():
            m.add_hint(var, zone == z)
    solver = cp_model.CpSolver()
    deterministic(solver, dtime)
    if solver.solve(m) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return start  # no assignment in time: the repair makes the rules hold
    found = [next(z for z, var in v.items() if solver.value(var)) for v in x]
    return min((found, start), key=lambda zs: (_breaks(problem, nodes, ruled, zs, domains), zs is start))


def _breaks(
    problem: PlanProblem,
    nodes: list[OpenNode],
    ruled: list[Workload],
    zones: list[str],
    domains: dict[str, list[str]],
) -> int:
    """How far a zone per node leaves the rules from kept, summed over the ruled workloads."""
    out = 0
    for w in ruled:
        count: Counter[str] = Counter({z: 0 for z in problem.zones})
        for n, z in zip(nodes, zones, strict=True):
            count[z] += n.counts[w.name]
        out += _broken(w, count, domains[w.name])
    return out


def _counts(nodes: list[OpenNode], w: Workload, zones: list[str]) -> Counter[str]:
    out: Counter[str] = Counter({z: 0 for z in zones})
    for n in nodes:
        out[n.zone] += n.counts[w.name]
    return out


def _move(problem: PlanProblem, nodes: list[OpenNode], w: Workload, node: OpenNode, dst: str,
          ledger: SpotLedger) -> None:  # fmt: skip
    """One pod of `w` from `node` to a node in zone `dst` (a new one if none has room)."""
    node.remove(w)
    ledger.add(w, node.offering, -1)
    by_name = problem.workload_by_name()
    for other in nodes:
        if (
            other.zone == dst
            and other.room_for(w)
            and ledger.room(w, other.offering)
            and w.allows(other.offering, dst)
            and all(by_name[v].allows(other.offering, dst) for v in other.counts)
        ):
            other.add(w)
            ledger.add(w, other.offering)
            return
    hosts = [o for o in problem.offerings if w.allows(o, dst) and w.fits(o) and ledger.room(w, o)]
    fresh = OpenNode(min(hosts, key=lambda o: (o.usd_per_hour, o.name)), zone=dst)
    fresh.add(w)
    ledger.add(w, fresh.offering)
    nodes.append(fresh)


def _source(nodes: list[OpenNode], w: Workload, zone: str) -> OpenNode:
    """The node in `zone` to take a pod of `w` from: the one with the fewest pods (it may empty)."""
    return min((n for n in nodes if n.zone == zone and n.counts[w.name]), key=lambda n: n.pods)


def _repair(problem: PlanProblem, nodes: list[OpenNode], w: Workload, ledger: SpotLedger) -> None:
    domains = _domains(problem, w)
    for _ in range(w.replicas * len(problem.zones) + 1):
        count = _counts(nodes, w, problem.zones)
        cap = w.max_per_zone
        over = [z for z in problem.zones if cap is not None and count[z] > cap]
        if over:
            room = [z for z in domains if count[z] < (cap or 0)]
            _move(
                problem, nodes, w, _source(nodes, w, over[0]), min(room, key=lambda z: (count[z], z)), ledger
            )
            continue
        if w.zone_max_skew is None or not domains:
            return
        hi = max(domains, key=lambda z: (count[z], z))
        lo = min(domains, key=lambda z: (count[z], z))
        if count[hi] - count[lo] <= w.zone_max_skew:
            return
        _move(problem, nodes, w, _source(nodes, w, hi), lo, ledger)


def assign_zones(problem: PlanProblem, nodes: list[OpenNode], dtime: float = 2.0) -> list[OpenNode]:
    """Copies of the nodes, each with a zone, with pods moved where the zone rules need it (empty nodes
    dropped). The nodes given are left as they were: a plan they share nodes with (the neighbourhood search
    keeps the nodes it does not re-pack) stays valid whether or not this one is taken."""
    nodes = [n.copy() for n in nodes]
    if not problem.zones:
        for n in nodes:
            n.zone = ""
        return nodes
    by_name = problem.workload_by_name()
    ruled = [w for w in problem.workloads if has_zone_rules(w) and w.replicas]
    nodes = sorted(nodes, key=lambda n: (n.offering.name, sorted(n.counts.items())))
    if not ruled:
        per_zone: Counter[str] = Counter({z: 0 for z in problem.zones})
        for n in sorted(nodes, key=lambda n: -n.offering.usd_per_hour):  # the costly nodes spread first
            n.zone = min(problem.zones, key=lambda z: (per_zone[z], z))
            per_zone[n.zone] += 1
        return nodes
    for node, zone in zip(nodes, _choose(problem, nodes, ruled, dtime), strict=True):
        node.zone = zone
    ledger = SpotLedger.holding(nodes, by_name)
    for n in list(nodes):  # a pod a zone rule keeps out of its node's zone moves to a zone it may use
        for name in list(n.counts):
            w = by_name[name]
            if n.counts[name] and not w.allows(n.offering, n.zone):
                count = _counts(nodes, w, problem.zones)
                dst = min(_domains(problem, w), key=lambda z: (count[z], z))
                for _ in range(n.counts[name]):
                    _move(problem, nodes, w, n, dst, ledger)
    for w in ruled:
        _repair(problem, nodes, w, ledger)
    return [n for n in nodes if n.pods]
