"""How many of a workload's pods any plan can place, and which constraint stops the rest.

Nodes can always be added, so only rules that cap a workload's pods regardless of the node count bind: no
allowed offering holds one pod (selectors, affinity, tolerations, size), spot only allowed but the spot
share or the spot pools cap it, one pod per zone over too few zones. Every plan must place at least this
many pods (the validator checks it), so the bound checks may count them as demand.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifiers.cost.model import Offering, PlanProblem, Workload
from verifiers.cost.scheduling import Toleration

__all__ = ["Placeable", "eligible_zones", "placeable"]


@dataclass(frozen=True)
class Placeable:
    count: int
    reason: str = ""
    """Why `count` is below the replicas (empty when every replica can run)."""


def eligible_zones(w: Workload, hosts: list[Offering], zones: list[str]) -> list[str]:
    """The problem's zones a pod of `w` may run in, on one of `hosts` (the offerings that hold it)."""
    return [z for z in zones if any(w.allows(o, z) for o in hosts)]


def _no_host_reason(w: Workload, offerings: list[Offering]) -> str:
    allowed = [o for o in offerings if w.allows(o)]
    if allowed:
        cpu = max(o.cpu_m for o in allowed)
        mem = max(o.memory_mib for o in allowed)
        return (
            f"one pod requests {w.cpu_m}m CPU and {w.memory_mib:g} MiB; the allowed instance types hold at "
            f"most {cpu}m and {mem:.0f} MiB"
        )
    on_spot = w.model_copy(update={"spot_allowed": True, "max_spot_share": 1.0, "spot_cap": None})
    if any(on_spot.allows(o) for o in offerings):
        return "only spot instance types match its selectors, and it may not run on spot (or its spot share is 0)"
    tolerant = w.model_copy(update={"tolerations": (Toleration(operator="Exists"),)})
    if any(tolerant.allows(o) for o in offerings):
        return "every instance type that matches its selectors carries a taint it does not tolerate"
    return "no instance type matches its node selector and node affinity"


def placeable(problem: PlanProblem, w: Workload) -> Placeable:
    """The most pods of `w` a plan can place, with the reason when that is fewer than its replicas."""
    if not w.replicas:
        return Placeable(0)
    hosts = [o for o in problem.offerings if w.allows(o) and w.fits(o)]
    if not hosts:
        return Placeable(0, _no_host_reason(w, problem.offerings))
    count, reason = w.replicas, ""
    if problem.zones:
        zones = eligible_zones(w, hosts, problem.zones)
        if not zones:
            return Placeable(0, "no zone of the plan matches its zone selector or affinity")
        if w.max_per_zone is not None and w.max_per_zone * len(zones) < count:
            count = w.max_per_zone * len(zones)
            reason = (
                f"at most {w.max_per_zone} pod(s) per zone (zone anti-affinity) over {len(zones)} zone(s) "
                f"lets {count} of {w.replicas} replicas run"
            )
    if not any(o.capacity_type == "on-demand" for o in hosts):
        pools = len({o.name for o in hosts})
        spot = min(w.max_spot_cap(), w.pool_cap() * pools)
        if spot < count:
            count = spot
            if w.max_spot_cap() <= w.pool_cap() * pools:
                reason = (
                    f"it may run on spot only (no on-demand instance type matches its selectors), and its "
                    f"spot share of {w.max_spot_share:g} lets {count} of {w.replicas} replicas run on spot"
                )
            else:
                reason = (
                    f"it may run on spot only, and at most {w.pool_cap()} pods per spot pool over the "
                    f"{pools} allowed spot pool(s) lets {count} of {w.replicas} replicas run"
                )
    return Placeable(count, reason)
