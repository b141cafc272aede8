"""Baselines a plan is measured against, each a valid plan under the same constraints.

* `karpenter_style_plan`: Karpenter's provisioning (`tools.cost.plan.karpenter`) with one NodePool of
  every offering: first-fit-decreasing where the nodes being formed stay open to later pods and each
  launches as the cheapest instance type that holds its pods. No consolidation.
* `single_type_plan`: first-fit-decreasing onto one instance type (on-demand, plus the same type on spot
  for the pods allowed there), the best such type: a cluster autoscaler with one node group.
"""

from __future__ import annotations

import time

from tools.cost.plan.karpenter import NodePoolSpec, simulate
from tools.cost.plan.packing import placeable_problem
from verifiers.cost.model import Plan, PlannedNode, PlanProblem

__all__ = ["karpenter_style_plan", "single_type_plan"]


def _plan(problem: PlanProblem, nodes: list[PlannedNode], lost: dict[str, int], reasons: dict[str, str],
          pending: dict[str, int], solver: str, start: float) -> Plan:  # fmt: skip
    offerings = problem.offering_by_name()
    for name, n in pending.items():
        lost[name] = lost.get(name, 0) + n
        reasons.setdefault(name, "the first-fit order left it without a node under its spot caps")
    return Plan(
        nodes=nodes,
        unplaceable=lost,
        unplaceable_reasons=reasons,
        hourly_cost=sum(offerings[n.offering].usd_per_hour for n in nodes),
        lower_bound=0.0,
        bound_source="none",
        status="feasible",
        solver=solver,
        solve_seconds=time.perf_counter() - start,
    )


def karpenter_style_plan(problem: PlanProblem) -> Plan:
    """Karpenter's provisioning with one NodePool holding every offering in every zone."""
    start = time.perf_counter()
    placeable, lost, reasons = placeable_problem(problem)
    pool = NodePoolSpec("all", tuple(problem.offerings), tuple(problem.zones))
    nodes, pending = simulate(placeable, [pool])
    return _plan(problem, nodes, lost, reasons, pending, "karpenter-like-ffd", start)


def single_type_plan(problem: PlanProblem) -> Plan:
    """The cheapest first-fit-decreasing plan over one instance type (its on-demand and spot offerings)
    that places every pod the constraints allow; the Karpenter-like plan when no single type does."""
    start = time.perf_counter()
    placeable, lost, reasons = placeable_problem(problem)
    best: Plan | None = None
    for itype in sorted({o.instance_type for o in problem.offerings}):
        offers = [o for o in problem.offerings if o.instance_type == itype]
        pools = [
            NodePoolSpec(o.name, (o,), tuple(problem.zones), weight=int(o.capacity_type == "spot"))
            for o in offers
        ]
        nodes, pending = simulate(placeable, pools)
        if pending:
            continue
        plan = _plan(problem, nodes, dict(lost), dict(reasons), {}, f"single-type-ffd {itype}", start)
        if best is None or plan.hourly_cost < best.hourly_cost:
            best = plan
    return best or karpenter_style_plan(problem)
