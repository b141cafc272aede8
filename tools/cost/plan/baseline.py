"""Karpenter-style baseline: first-fit-decreasing by CPU then memory, cheapest compatible offering.

Pods go first-fit onto nodes already launched; a pod that fits none joins the node being formed, whose
candidate offerings narrow to those that fit everything on it; when it no longer fits any candidate the node
launches as its cheapest candidate and a new one is formed. This mirrors Karpenter's provisioning loop
without consolidation, and is the baseline the planner is measured against.
"""

from __future__ import annotations

import time

from tools.cost.plan.packing import OpenNode, SpotLedger, placeable_problem
from verifiers.cost.model import Offering, Plan, PlanProblem, Workload

__all__ = ["karpenter_style_plan"]


def _fits_all(o: Offering, node: OpenNode, w: Workload, ledger: SpotLedger) -> bool:
    if not (w.allows(o) and ledger.room(w, o) > node.counts[w.name]):
        return False
    return (
        node.cpu_m + w.cpu_m <= o.cpu_m
        and node.memory_mib + w.memory_mib <= o.memory_mib + 1e-6
        and node.pods + 1 <= o.max_pods
    )


def karpenter_style_plan(problem: PlanProblem) -> Plan:
    start = time.perf_counter()
    placeable, lost, reasons = placeable_problem(problem)
    problem = placeable
    pods = [w for w in problem.workloads for _ in range(w.replicas)]
    pods.sort(key=lambda w: (-w.cpu_m, -w.memory_mib, w.name))
    ledger = SpotLedger()
    launched: list[OpenNode] = []
    forming: OpenNode | None = None
    candidates: list[Offering] = []

    def launch() -> None:
        assert forming is not None
        best = min(candidates, key=lambda o: (o.usd_per_hour, o.name))
        node = OpenNode(best)
        for name, n in forming.counts.items():
            w = by_name[name]
            node.add(w, n)
            ledger.add(w, best, n)
        launched.append(node)

    by_name = problem.workload_by_name()
    for w in pods:
        home = next(
            (n for n in launched if n.room_for(w) and w.allows(n.offering) and ledger.room(w, n.offering)),
            None,
        )
        if home is not None:
            home.add(w)
            ledger.add(w, home.offering)
            continue
        if forming is not None:
            narrowed = [o for o in candidates if _fits_all(o, forming, w, ledger)]
            if narrowed:
                candidates = narrowed
                forming.add(w)
                continue
            launch()
        fresh = OpenNode(problem.offerings[0])
        candidates = [o for o in problem.offerings if _fits_all(o, fresh, w, ledger)]
        if not candidates:  # only spot offerings allowed and the spot caps are used up
            lost[w.name] = lost.get(w.name, 0) + 1
            forming = None
            continue
        forming = fresh
        forming.add(w)
    if forming is not None and forming.pods:
        launch()
    cost = sum(n.offering.usd_per_hour for n in launched)
    return Plan(
        nodes=[n.to_planned() for n in launched],
        unplaceable=lost,
        unplaceable_reasons=reasons,
        hourly_cost=cost,
        lower_bound=0.0,
        bound_source="none",
        status="feasible",
        solver="karpenter-style-ffd",
        solve_seconds=time.perf_counter() - start,
    )
