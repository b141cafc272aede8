"""LP-guided packing: round the relaxation's placement, pack, then repair and consolidate.

1. Each workload's pods go, in the proportions of the fractional placement (rounded down), to nodes of the
   offerings the LP chose, packed first-fit-decreasing.
2. The rounding remainder goes first-fit onto any open node with room, else onto a new node of the offering
   that costs least per pod of that workload it can take.
3. Consolidation: nodes are emptied into the spare room of others when all their pods fit; then every node is
   resized to the cheapest allowed offering that holds its pods.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from tools.cost.plan.binpack import pack_exactly
from tools.cost.plan.packing import OpenNode, SpotLedger
from tools.cost.plan.relaxation import Relaxation
from verifiers.cost.model import Offering, PlanProblem, Workload

__all__ = ["pack_guided", "place_leftovers"]


def _size_key(w: Workload) -> tuple[float, float, str]:
    return (-w.cpu_m, -w.memory_mib, w.name)


def _place_on(
    nodes: list[OpenNode],
    w: Workload,
    n: int,
    ledger: SpotLedger,
    moves: list[tuple[OpenNode, Workload, int]] | None = None,
) -> int:
    """First-fit up to n pods of w onto `nodes`, each placement added to `moves` (to undo it); returns how
    many were placed."""
    left = n
    for node in nodes:
        if left == 0:
            break
        if not w.allows(node.offering):
            continue
        k = min(node.room_for(w, left), ledger.room(w, node.offering))
        if k:
            node.add(w, k)
            ledger.add(w, node.offering, k)
            if moves is not None:
                moves.append((node, w, k))
            left -= k
    return n - left


def _consolidate(nodes: list[OpenNode], by_name: dict[str, Workload], ledger: SpotLedger) -> list[OpenNode]:
    nodes = sorted(nodes, key=lambda n: -n.utilisation())
    victims = [n for n in nodes if n.utilisation() < 0.95]
    victims.sort(key=lambda n: n.offering.usd_per_hour / max(n.utilisation(), 1e-9), reverse=True)
    for victim in victims:
        if not victim.pods:
            continue
        for name, count in victim.counts.items():
            ledger.add(by_name[name], victim.offering, -count)
        others = [n for n in nodes if n is not victim and n.pods]
        moves: list[tuple[OpenNode, Workload, int]] = []
        complete = True
        for name, count in sorted(victim.counts.items(), key=lambda kv: _size_key(by_name[kv[0]])):
            if _place_on(others, by_name[name], count, ledger, moves) < count:
                complete = False
                break
        if complete:
            for name, count in list(victim.counts.items()):
                victim.remove(by_name[name], count)
            continue
        for node, w, k in moves:  # roll back a partial evacuation
            node.remove(w, k)
            ledger.add(w, node.offering, -k)
        for name, count in victim.counts.items():
            ledger.add(by_name[name], victim.offering, count)
    return [n for n in nodes if n.pods]


def _resize(
    problem: PlanProblem, nodes: list[OpenNode], by_name: dict[str, Workload], ledger: SpotLedger
) -> None:
    for node in nodes:
        ws = [(by_name[k], v) for k, v in node.counts.items()]
        for o in sorted(problem.offerings, key=lambda o: o.usd_per_hour):
            if o.usd_per_hour >= node.offering.usd_per_hour:
                break
            if node.cpu_m > o.cpu_m or node.memory_mib > o.memory_mib + 1e-6 or node.pods > o.max_pods:
                continue
            if not all(w.allows(o) for w, _ in ws):
                continue
            same = o.name == node.offering.name
            if o.capacity_type == "spot" and not same and any(ledger.room(w, o) < n for w, n in ws):
                continue
            for w, n in ws:
                ledger.add(w, node.offering, -n)
                ledger.add(w, o, n)
            node.offering = o
            break


def _cosine(a: float, b: float, cpu_free: float, mem_free: float) -> float:
    """Cosine between the pod and the node's free room: keeps the node's CPU:memory mix balanced."""
    return (a * cpu_free + b * mem_free) / (
        math.hypot(a, b) * max(math.hypot(cpu_free, mem_free), 1e-9) or 1.0
    )


# Ways to choose the next pod for a node; _fill keeps the one that packs a group best.
_SCORES: tuple[Callable[[float, float, float, float], float], ...] = (
    _cosine,
    lambda a, b, c, m: _cosine(a, b, c, m) ** 4 * max(a, b),  # big pods first, still balanced
    lambda a, b, c, m: a * c + b * m,  # dot product: big pods along the free room
)


def _fill_with(
    score: Callable[[float, float, float, float], float],
    offering: Offering,
    demand: dict[str, int],
    by_name: dict[str, Workload],
    ledger: SpotLedger,
    max_nodes: int | None,
    batched: bool = False,
) -> list[OpenNode]:
    nodes: list[OpenNode] = []
    left = {k: v for k, v in demand.items() if v > 0}
    shares = {
        k: (by_name[k].cpu_m / offering.cpu_m, by_name[k].memory_mib / offering.memory_mib) for k in left
    }
    spot = offering.capacity_type == "spot"
    while left and (max_nodes is None or len(nodes) < max_nodes):
        node = OpenNode(offering)
        while node.pods < offering.max_pods:
            cpu_free = 1 - node.cpu_m / offering.cpu_m
            mem_free = 1 - node.memory_mib / offering.memory_mib
            best: tuple[float, str] | None = None
            for name in left:
                a, b = shares[name]
                if a > cpu_free + 1e-9 or b > mem_free + 1e-9:
                    continue
                cand = by_name[name]
                if (
                    cand.max_per_node is not None or cand.separate_from or node.blocked
                ) and not node.room_for(cand):
                    continue  # its per-node cap or an anti-affinity keeps it off this node
                if spot and not ledger.room(cand, offering):
                    continue
                value = score(a, b, cpu_free, mem_free)
                if best is None or (value, name) > best:
                    best = (value, name)
            if best is None:
                break
            w = by_name[best[1]]
            # large groups: several pods at once (a quarter of the room for them), to stay fast
            k = max(1, min(left[w.name], node.room_for(w, left[w.name]) // 4)) if batched else 1
            if spot:
                k = min(k, ledger.room(w, offering))
            node.add(w, k)
            ledger.add(w, offering, k)
            left[w.name] -= k
            if not left[w.name]:
                del left[w.name]
        if not node.pods:
            break  # what is left cannot go on this offering (spot caps): the caller places it elsewhere
        nodes.append(node)
    for name in demand:
        demand[name] = left.get(name, 0)
    return nodes


def _fill(
    offering: Offering,
    demand: dict[str, int],
    by_name: dict[str, Workload],
    ledger: SpotLedger,
    max_nodes: int | None,
) -> list[OpenNode]:
    """Pack `demand` onto nodes of one offering, trying each pod-choice rule and keeping the one that leaves
    the fewest pods over, then uses the fewest nodes; `demand` is left holding what did not fit."""
    if sum(demand.values()) > 2000:  # large groups: the balanced rule alone, to stay fast
        return _fill_with(_cosine, offering, demand, by_name, ledger, max_nodes, batched=True)
    best: tuple[tuple[int, int], Callable[[float, float, float, float], float]] | None = None
    for score in _SCORES:
        trial = dict(demand)
        nodes = _fill_with(score, offering, trial, by_name, ledger.copy(), max_nodes)
        key = (sum(trial.values()), len(nodes))
        if best is None or key < best[0]:
            best = (key, score)
    assert best is not None
    return _fill_with(best[1], offering, demand, by_name, ledger, max_nodes)


def _pod_value(problem: PlanProblem, w: Workload) -> float:
    """What one pod is worth: its share of the cheapest node it can go on (the LP's price for it, roughly)."""
    return min(
        (
            o.usd_per_hour * max(w.cpu_m / o.cpu_m, w.memory_mib / o.memory_mib, 1 / o.max_pods)
            for o in problem.offerings
            if w.allows(o) and w.fits(o)
        ),
        default=0.0,
    )


def _open_for(
    problem: PlanProblem, leftovers: dict[str, int], by_name: dict[str, Workload], ledger: SpotLedger
) -> list[OpenNode]:
    """New nodes for pods the rounding left over: each time, the offering whose trial fill packs the most pod
    value per dollar."""
    value = {name: _pod_value(problem, by_name[name]) for name, n in leftovers.items() if n > 0}
    nodes: list[OpenNode] = []
    while any(leftovers.get(k, 0) > 0 for k in value):
        best: tuple[float, Offering] | None = None
        for o in problem.offerings:
            demand = {
                k: n for k, n in leftovers.items() if n > 0 and by_name[k].allows(o) and by_name[k].fits(o)
            }
            if not demand or o.usd_per_hour <= 0:
                continue
            trial = _fill(o, dict(demand), by_name, ledger.copy(), 1)
            if not trial:
                continue
            score = sum(value[k] * n for k, n in trial[0].counts.items()) / o.usd_per_hour
            if best is None or score > best[0]:
                best = (score, o)
        if best is None:
            break  # the rest cannot be placed under the spot caps: the planner reports them
        demand = {k: n for k, n in leftovers.items() if n > 0 and by_name[k].allows(best[1])}
        before = dict(demand)
        nodes.extend(_fill(best[1], demand, by_name, ledger, 1))
        for k, n in before.items():
            leftovers[k] -= n - demand.get(k, 0)
    return nodes


def place_leftovers(problem: PlanProblem, nodes: list[OpenNode], leftovers: dict[str, int]) -> bool:
    """Add `leftovers` (workload -> pods) to a partial plan: first-fit onto `nodes` (largest pods first,
    every rule and spot cap kept), then onto new nodes chosen as the packing does. True if all are placed."""
    by_name = problem.workload_by_name()
    ledger = SpotLedger.holding(nodes, by_name)
    left = {name: n for name, n in leftovers.items() if n > 0}
    for name in sorted(left, key=lambda n: _size_key(by_name[n])):
        left[name] -= _place_on(nodes, by_name[name], left[name], ledger)
    nodes.extend(_open_for(problem, left, by_name, ledger))
    return not any(n > 0 for n in left.values())


def _targets(problem: PlanProblem, relaxation: Relaxation, skip: set[str]) -> dict[str, dict[str, int]]:
    """Round the fractional placement: floors first, then each remaining pod to its largest fraction."""
    by_name = problem.workload_by_name()
    offerings = problem.offering_by_name()
    ledger = SpotLedger()
    target: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    fractions: dict[str, list[tuple[float, str]]] = defaultdict(list)
    placed: dict[str, int] = defaultdict(int)
    for (wname, oname), z in sorted(relaxation.placement.items()):
        w, o = by_name[wname], offerings[oname]
        k = min(math.floor(z + 1e-6), ledger.room(w, o))
        if k:
            target[oname][wname] += k
            ledger.add(w, o, k)
            placed[wname] += k
        fractions[wname].append((z - k, oname))
    for w in problem.workloads:
        if w.name in skip:
            continue
        for _, oname in sorted(fractions[w.name], reverse=True):
            if placed[w.name] >= w.replicas:
                break
            k = min(w.replicas - placed[w.name], ledger.room(w, offerings[oname]), 1)
            if k:
                target[oname][w.name] += k
                ledger.add(w, offerings[oname], k)
                placed[w.name] += k
    return target


def _fill_exactly(
    offering: Offering,
    demand: dict[str, int],
    by_name: dict[str, Workload],
    ledger: SpotLedger,
    limit: int,
    budget: list[float],
) -> list[OpenNode]:
    """`_fill` into `limit` nodes, then, while the deterministic-time `budget[0]` lasts and pods are over,
    an exact repacking (its time is taken from the budget)."""
    trial, trial_ledger = dict(demand), ledger.copy()
    greedy = _fill(offering, trial, by_name, trial_ledger, limit)
    packed = None
    if any(trial.values()) and budget[0] > 0.05:
        exact = dict(demand)
        packed, used = pack_exactly(offering, exact, by_name, limit, greedy, min(1.0, budget[0]))
        budget[0] -= used
    if packed is None:
        demand.update(trial)
        for node in greedy:
            for name, n in node.counts.items():
                ledger.add(by_name[name], offering, n)
        return greedy
    demand.update(exact)
    for node in packed:
        for name, n in node.counts.items():
            ledger.add(by_name[name], offering, n)
    return packed


def pack_guided(
    problem: PlanProblem, relaxation: Relaxation, skip: set[str], exact_dtime: float = 0.0
) -> list[OpenNode]:
    """Pack along the relaxation's placement; with integer node counts, an offering whose pods the greedy
    fill leaves over is repacked exactly while `exact_dtime` (CP-SAT deterministic seconds in all) lasts."""
    budget = [exact_dtime]
    by_name = problem.workload_by_name()
    offerings = problem.offering_by_name()
    ledger = SpotLedger()
    nodes: list[OpenNode] = []
    leftovers: dict[str, int] = {
        w.name: w.replicas for w in problem.workloads if w.name not in skip and w.replicas
    }
    for oname, demand in sorted(_targets(problem, relaxation, skip).items()):
        demand = {k: min(v, leftovers[k]) for k, v in demand.items()}
        before = dict(demand)
        limit = round(relaxation.nodes.get(oname, 0)) if relaxation.integral else None
        if limit:
            nodes.extend(_fill_exactly(offerings[oname], demand, by_name, ledger, limit, budget))
        else:
            nodes.extend(_fill(offerings[oname], demand, by_name, ledger, limit))
        for name, n in before.items():
            leftovers[name] -= n - demand.get(name, 0)
    for name in sorted(leftovers, key=lambda n: _size_key(by_name[n])):
        leftovers[name] -= _place_on(nodes, by_name[name], leftovers[name], ledger)
    nodes.extend(_open_for(problem, leftovers, by_name, ledger))
    nodes = _consolidate(nodes, by_name, ledger)
    _resize(problem, nodes, by_name, ledger)
    return nodes
