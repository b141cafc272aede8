"""Large-neighbourhood search: re-solve the pods of a few wasteful on-demand nodes exactly with CP-SAT.

Each round takes k on-demand nodes with the most unused capacity (priced), and asks CP-SAT for the cheapest
on-demand nodes that hold exactly their pods; the round's nodes are replaced only when that is cheaper. Spot
nodes stay as they are, so the spot-share and spot-pool caps are untouched. Stops at the deadline.
"""

from __future__ import annotations

import random
from collections import Counter

from tools.cost.plan.exact import solve_exact
from tools.cost.plan.packing import OpenNode, prune_dominated
from tools.cost.plan.relaxation import solve_relaxation
from verifiers.cost.model import PlanProblem

__all__ = ["improve_on_demand"]


def _slack_cost(n: OpenNode) -> float:
    return (1.0 - n.utilisation()) * n.offering.usd_per_hour


def improve_on_demand(
    problem: PlanProblem, nodes: list[OpenNode], dtime: float, seed: int = 0, max_pods: int = 60
) -> list[OpenNode]:
    """Rounds until 12 in a row find nothing or the CP-SAT deterministic time `dtime` is spent."""

    rng = random.Random(seed)
    by_name = problem.workload_by_name()
    on_demand = [o for o in problem.offerings if o.capacity_type == "on-demand"]
    tried: set[frozenset[int]] = set()
    stale = 0
    while dtime > 0.2 and stale < 12:
        od = [n for n in nodes if n.offering.capacity_type == "on-demand"]
        if len(od) < 2:
            break
        od.sort(key=_slack_cost, reverse=True)
        k = min(len(od), rng.choice([2, 3, 4, 5, 6]))
        pool = od[: min(len(od), 3 * k)]
        victims: list[OpenNode] = []
        for n in rng.sample(pool, len(pool)):  # small sub-problems: CP-SAT must finish them in seconds
            if len(victims) < k and sum(v.pods for v in victims) + n.pods <= max_pods:
                victims.append(n)
        if len(victims) < 2:
            stale += 1
            continue
        key = frozenset(id(v) for v in victims)
        if key in tried:
            stale += 1
            continue
        tried.add(key)
        counts: Counter[str] = Counter()
        for v in victims:
            counts.update(v.counts)
        sub_works = [
            by_name[name].model_copy(update={"replicas": n, "spot_allowed": False})
            for name, n in sorted(counts.items()) if n
        ]  # fmt: skip
        sub = prune_dominated(PlanProblem(workloads=sub_works, offerings=on_demand))
        relax = solve_relaxation(sub)
        result = solve_exact(sub, set(), victims, relax.certified, min(3.0, dtime), relax)
        dtime -= result.dtime
        before = sum(v.offering.usd_per_hour for v in victims)
        after = sum(n.offering.usd_per_hour for n in result.nodes or [])
        if result.nodes is not None and after < before - 1e-9:
            gone = {id(v) for v in victims}
            nodes = [n for n in nodes if id(n) not in gone] + result.nodes
            tried.clear()
            stale = 0
        else:
            stale += 1
    return nodes
