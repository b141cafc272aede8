"""Check a configuration-LP lower bound from its dual prices, independently of the column generation.

The configuration LP (Gilmore-Gomory) chooses how many nodes of each *pattern* to run, a pattern being a
whole-pod load one node of an offering can hold. Its dual prices each pod (pi_w), each max-spot-share row
(sigma_w) and each spot-pool cap (rho_w,o). Any non-negative prices y give a bound by weak duality once they
are feasible, i.e. once no pattern is worth more than its node:  V_o(y) <= price_o  for every offering o,
V_o being the best value one node of o can hold (an integer knapsack, solved exactly here). When some V_o
exceeds its price, the prices are scaled by theta = min_o price_o / V_o (Farley's bound), which makes them
feasible. So any certificate yields a valid bound, and a wrong one can only make it weaker:

    cost(any feasible plan) >= theta * (sum_w n_w pi_w - sum_w spotcap_w sigma_w - sum_w,o poolcap_w rho_w,o)
"""

from __future__ import annotations

import math

import highspy
import numpy as np

from verifiers.cost.model import ConfigurationCertificate, Offering, PlanProblem, Workload
from verifiers.cost.placeable import placeable

__all__ = ["best_node_value", "certified_configuration_bound"]

# Rounding slack, so that float error never makes the bound claim more than it proves.
_EPS = 1e-9
# Allocatable slack the validator also grants (a pattern it accepts is one this check considers).
_FIT_TOL = 1e-6
# Search nodes per offering, and for a whole certificate, before a knapsack settles for its (valid, weaker)
# root upper bound: a certificate check takes seconds, never minutes.
_MAX_NODES = 2_000_000
_MAX_TOTAL_NODES = 6_000_000
# Branches that cannot beat the best load by more than this share are cut; the value claimed is raised by it.
_REL = 1e-4

_Group = tuple[float, float, list[float]]  # (cpu per pod, memory per pod, pod values best first)


def _groups(items: list[tuple[Workload, float, int]]) -> list[_Group]:
    """Pods of equal size are interchangeable on a node: per size, the values of its pods, best first."""
    by_size: dict[tuple[float, float], list[float]] = {}
    for w, value, count in items:
        by_size.setdefault((float(w.cpu_m), float(w.memory_mib)), []).extend([value] * count)
    return [(cpu, mem, sorted(vals, reverse=True)) for (cpu, mem), vals in sorted(by_size.items())]


def _prices(offering: Offering, groups: list[_Group]) -> tuple[float, float, float]:
    """Non-negative prices per millicore, MiB and pod slot; any such prices cap a load's value (below), and
    those of the load's LP relaxation (HiGHS) cap it tightly."""
    runs = [(cpu, mem, v, vals.count(v)) for cpu, mem, vals in groups for v in sorted(set(vals))]
    n = len(runs)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, 3
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.array([r[2] for r in runs])
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.array([float(r[3]) for r in runs])
    lp.row_lower_ = np.full(3, -highspy.kHighsInf)
    lp.row_upper_ = np.array(
        [offering.cpu_m + _FIT_TOL, offering.memory_mib + _FIT_TOL, float(offering.max_pods)]
    )
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 3 * n + 1, 3, dtype=np.int32)
    lp.a_matrix_.index_ = np.tile(np.arange(3, dtype=np.int32), n)
    lp.a_matrix_.value_ = np.array([x for cpu, mem, _, _ in runs for x in (cpu, mem, 1.0)])
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return (0.0, 0.0, 0.0)
    d = h.getSolution().row_dual
    return (abs(float(d[0])), abs(float(d[1])), abs(float(d[2])))


def best_node_value(
    offering: Offering, items: list[tuple[Workload, float, int]], target: float = 0.0, limit: int = _MAX_NODES
) -> tuple[float, int]:
    """A proven cap on the value one node of `offering` can hold, and the search nodes it took: `items` are
    (workload, value per pod, most pods of it on one node). Branch and bound, exact up to a share `_REL` (the
    cap includes it); past `limit` search nodes, the root's cap instead. Loads worth at most `target` are not
    sought: the answer is then max(target, the best load) (with `target` the node's price, proving no load
    is worth more is enough). With prices (a, b, c) per millicore, MiB and slot, the pods left can add at
    most a * cpu + b * mem + c * slots + sum over them of max(0, value - priced resources)."""
    groups = _groups([(w, v, c) for w, v, c in items if v > 0 and c > 0])
    if not groups:
        return 0.0, 0
    a, b, c = _prices(offering, groups)
    prefix = [[0.0, *np.cumsum(vals).tolist()] for _, _, vals in groups]
    excess = [0.0]
    for cpu, mem, vals in reversed(groups):
        excess.append(excess[-1] + sum(max(0.0, v - a * cpu - b * mem - c) for v in vals))
    excess.reverse()
    total = [0.0]
    for _, _, vals in reversed(groups):
        total.append(total[-1] + sum(vals))
    total.reverse()

    # per start index, the gcd of the sizes left (0: not integral): the room left is used in its multiples
    steps: list[tuple[int, int]] = []
    g_cpu = g_mem = 0
    for cpu, mem, _ in reversed(groups):
        g_cpu = math.gcd(g_cpu, int(cpu)) if g_cpu >= 0 and cpu.is_integer() else -1
        g_mem = math.gcd(g_mem, int(mem)) if g_mem >= 0 and mem.is_integer() else -1
        steps.append((max(0, g_cpu), max(0, g_mem)))
    steps.reverse()

    def upper(i: int, cpu: float, mem: float, slots: int) -> float:
        if i < len(groups):
            s_cpu, s_mem = steps[i]
            cpu = math.floor(cpu / s_cpu + 1e-9) * s_cpu if s_cpu else cpu
            mem = math.floor(mem / s_mem + 1e-9) * s_mem if s_mem else mem
        return min(total[i], a * cpu + b * mem + c * slots + excess[i])

    cap_cpu, cap_mem = offering.cpu_m + _FIT_TOL, offering.memory_mib + _FIT_TOL
    root = upper(0, cap_cpu, cap_mem, offering.max_pods)
    best = max(0.0, target)
    visited = 0

    def search(i: int, cpu: float, mem: float, slots: int, value: float) -> None:
        nonlocal best, visited
        visited += 1
        if value > best:
            best = value
        if i == len(groups) or visited > limit:
            return
        if value + upper(i, cpu, mem, slots) <= best * (1 + _REL):
            return
        g_cpu, g_mem, vals = groups[i]
        most = min(len(vals), slots)
        if g_cpu > 0:
            most = min(most, int(cpu // g_cpu))
        if g_mem > 0:
            most = min(most, int(mem // g_mem))
        for k in range(most, -1, -1):
            search(i + 1, cpu - k * g_cpu, mem - k * g_mem, slots - k, value + prefix[i][k])

    search(0, cap_cpu, cap_mem, offering.max_pods, 0.0)
    return (root if visited > limit else min(root, best * (1 + _REL))), visited


def certified_configuration_bound(problem: PlanProblem, certificate: ConfigurationCertificate) -> float:
    """The lower bound the certificate proves for `problem` (0.0 when it proves nothing better)."""
    demand = {w.name: placeable(problem, w).count for w in problem.workloads}
    placed = [w for w in problem.workloads if demand[w.name]]  # every valid plan places at least these
    pi = {w.name: max(0.0, certificate.pod_prices.get(w.name, 0.0)) for w in placed}
    sigma = {w.name: max(0.0, certificate.spot_share_prices.get(w.name, 0.0)) for w in placed}
    rho = {
        w.name: {o: max(0.0, p) for o, p in certificate.pool_prices.get(w.name, {}).items()} for w in placed
    }
    dual = 0.0
    for w in placed:
        dual += demand[w.name] * pi[w.name] - w.max_spot_cap() * sigma[w.name]
        dual -= w.pool_cap() * sum(rho[w.name].values())
    if dual <= 0:
        return 0.0
    theta = 1.0
    budget = _MAX_TOTAL_NODES
    for o in problem.offerings:
        items: list[tuple[Workload, float, int]] = []
        for w in placed:
            if not (w.allows(o) and w.fits(o)):
                continue
            if o.capacity_type == "spot":
                value = pi[w.name] - sigma[w.name] - rho[w.name].get(o.name, 0.0)
                items.append((w, value, min(w.per_node(), w.max_spot_cap(), w.pool_cap())))
            else:
                items.append((w, pi[w.name], w.per_node()))
        worth, used = best_node_value(o, items, target=o.usd_per_hour, limit=min(_MAX_NODES, budget))
        budget = max(0, budget - used)
        if worth > o.usd_per_hour:
            theta = min(theta, o.usd_per_hour / worth)
    return max(0.0, theta * dual * (1 - _EPS))
