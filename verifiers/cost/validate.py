"""Repack a node plan against its problem and reject it when anything does not hold.

Checks, each reported with the place it concerns: the offering exists and the node's zone is one of the
problem's; every pod on a node is allowed there (selectors, node affinity, taints, spot); each node's CPU,
memory and pod count fit its allocatable; pods per node and per zone stay within each workload's caps, zone
spreads within their skew, and workloads that must stay apart never share a node; each workload's pods are
all placed or reported unplaceable, and unplaceable only as far as its constraints force it
(`verifiers.cost.placeable`); the max-spot-share and spot-pool caps hold; the stated hourly cost is the sum
of node prices; the stated lower bound does not exceed the cost, and, when it comes from a dual certificate
(LP or configuration LP), the certificate proves it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from verifiers.cost.bound import certified_lower_bound
from verifiers.cost.configuration import certified_configuration_bound
from verifiers.cost.model import Plan, PlanProblem, Workload
from verifiers.cost.placeable import eligible_zones, placeable

__all__ = ["Validation", "validate_plan"]

_TOL = 1e-6


@dataclass
class Validation:
    ok: bool
    errors: list[str] = field(default_factory=list)


@dataclass
class _Counts:
    placed: Counter[str] = field(default_factory=Counter)
    per_pool: Counter[tuple[str, str]] = field(default_factory=Counter)
    per_zone: Counter[tuple[str, str]] = field(default_factory=Counter)


def _check_nodes(problem: PlanProblem, plan: Plan, errors: list[str]) -> _Counts:
    offerings = problem.offering_by_name()
    workloads = problem.workload_by_name()
    counts = _Counts()
    for idx, node in enumerate(plan.nodes):
        where = f"/nodes/{idx}"
        off = offerings.get(node.offering)
        if off is None:
            errors.append(f"{where}/offering: unknown offering {node.offering!r}")
            continue
        if node.zone not in (problem.zones or [""]):
            errors.append(f"{where}/zone: {node.zone!r} is not one of the plan's zones {problem.zones}")
        zone = node.zone if problem.zones else None
        cpu = mem = 0.0
        count = 0
        for name, n in node.pods.items():
            w = workloads.get(name)
            if w is None or n < 0:
                errors.append(f"{where}/pods/{name}: unknown workload or negative count")
                continue
            if n and not w.allows(off, zone):
                errors.append(
                    f"{where}/pods/{name}: not allowed on {off.name} in zone {node.zone!r} "
                    "(selector, affinity, taint or spot)"
                )
            if n > w.per_node():
                errors.append(f"{where}/pods/{name}: {n} pods on one node exceed its limit {w.per_node()}")
            for other in w.separate_from:
                if n and node.pods.get(other):
                    errors.append(f"{where}/pods/{name}: shares the node with {other} (anti-affinity)")
            cpu += w.cpu_m * n
            mem += w.memory_mib * n
            count += n
            counts.placed[name] += n
            counts.per_zone[(name, node.zone)] += n
            if off.capacity_type == "spot":
                counts.per_pool[(name, off.name)] += n
        if cpu > off.cpu_m + _TOL:
            errors.append(f"{where}: CPU {cpu:.0f}m exceeds allocatable {off.cpu_m}m of {off.name}")
        if mem > off.memory_mib + _TOL:
            errors.append(
                f"{where}: memory {mem:.0f}Mi exceeds allocatable {off.memory_mib:.0f}Mi of {off.name}"
            )
        if count > off.max_pods:
            errors.append(f"{where}: {count} pods exceed max pods {off.max_pods} of {off.name}")
    return counts


def _zone_errors(problem: PlanProblem, w: Workload, counts: _Counts) -> list[str]:
    if not problem.zones:
        return []
    errors = []
    here = {z: counts.per_zone[(w.name, z)] for z in problem.zones}
    if w.max_per_zone is not None:
        errors += [
            f"/workloads/{w.name}: {n} pods in zone {z} exceed its limit {w.max_per_zone}"
            for z, n in here.items()
            if n > w.max_per_zone
        ]
    if w.zone_max_skew is not None and counts.placed[w.name]:
        hosts = [o for o in problem.offerings if w.allows(o) and w.fits(o)]
        domains = eligible_zones(w, hosts, problem.zones)
        spread = [here[z] for z in domains]
        if spread and max(spread) - min(spread) > w.zone_max_skew:
            errors.append(
                f"/workloads/{w.name}: pods per zone {dict(zip(domains, spread, strict=True))} differ by "
                f"more than its max skew {w.zone_max_skew}"
            )
    return errors


def validate_plan(problem: PlanProblem, plan: Plan) -> Validation:
    """Every violation found, or ok."""
    errors: list[str] = []
    counts = _check_nodes(problem, plan, errors)
    offerings = problem.offering_by_name()
    for w in problem.workloads:
        placed = counts.placed[w.name]
        lost = plan.unplaceable.get(w.name, 0)
        if placed + lost != w.replicas:
            errors.append(
                f"/workloads/{w.name}: {placed} placed + {lost} unplaceable != {w.replicas} replicas"
            )
        can = placeable(problem, w).count
        if lost and placed < can:
            errors.append(
                f"/unplaceable/{w.name}: reported unplaceable but the constraints let {can} of "
                f"{w.replicas} replicas run"
            )
        spot = sum(n for (name, _), n in counts.per_pool.items() if name == w.name)
        if spot > w.max_spot_cap():
            errors.append(f"/workloads/{w.name}: {spot} pods on spot exceed the cap {w.max_spot_cap()}")
        for (name, pool), n in counts.per_pool.items():
            if name == w.name and n > w.pool_cap():
                errors.append(f"/workloads/{w.name}: {n} pods in spot pool {pool} exceed {w.pool_cap()}")
        errors += _zone_errors(problem, w, counts)
    for name in plan.unplaceable:
        if name not in problem.workload_by_name():
            errors.append(f"/unplaceable/{name}: unknown workload")
    cost = sum(offerings[n.offering].usd_per_hour for n in plan.nodes if n.offering in offerings)
    if abs(cost - plan.hourly_cost) > 1e-6 * max(1.0, cost):
        errors.append(f"/hourly_cost: stated {plan.hourly_cost:.6f} but nodes cost {cost:.6f}")
    if plan.lower_bound > cost * (1 + 1e-9) + 1e-9:
        errors.append(f"/lower_bound: {plan.lower_bound:.6f} exceeds the plan's own cost {cost:.6f}")
    errors.extend(_certified_bound_errors(problem, plan))
    return Validation(ok=not errors, errors=errors)


def _certified_bound_errors(problem: PlanProblem, plan: Plan) -> list[str]:
    """A bound whose source is a dual certificate must be one the certificate proves (checked here)."""
    if plan.bound_source == "lp-dual":
        field, name = "certificate", "certificate"
        proven = None if plan.certificate is None else certified_lower_bound(problem, plan.certificate)
    elif plan.bound_source == "configuration-lp":
        field, name = "configuration_certificate", "configuration certificate"
        cert = plan.configuration_certificate
        proven = None if cert is None else certified_configuration_bound(problem, cert)
    else:
        return []  # a solver's own proof: not re-checked here
    if proven is None:
        return [f"/{field}: the {plan.bound_source} bound needs its certificate"]
    if plan.lower_bound > proven * (1 + 1e-9) + 1e-9:
        return [f"/lower_bound: stated {plan.lower_bound:.6f} but the {name} proves {proven:.6f}"]
    return []
