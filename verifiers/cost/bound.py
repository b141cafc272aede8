"""Check a lower bound on plan cost from its dual certificate, independently of the solver that found it.

The relaxation: pods may be split across nodes, node counts may be fractional. Its LP dual prices each
offering's resources (v per millicore, MiB and pod slot) with sum(capacity * v) <= price, so any node costs at
least the priced resources it holds, and every pod costs at least its cheapest priced placement u_i. Weak
duality then gives   cost(any feasible plan) >= sum_i n_i * u_i - sum(cap * side-row prices).
Negative certificate entries are clipped to zero and over-priced offerings scaled down, so any certificate
yields a valid (if weaker) bound; a wrong certificate cannot produce a false claim.
"""

from __future__ import annotations

from verifiers.cost.model import BoundCertificate, PlanProblem
from verifiers.cost.placeable import placeable

__all__ = ["certified_lower_bound"]

# Rounding slack per term, so that float error never makes the bound claim more than it proves.
_EPS = 1e-9


def certified_lower_bound(problem: PlanProblem, certificate: BoundCertificate) -> float:
    """The lower bound the certificate proves for `problem` (0.0 when it proves nothing better)."""
    prices: dict[str, tuple[float, float, float]] = {}
    for o in problem.offerings:
        v = tuple(max(0.0, x) for x in certificate.resource_prices.get(o.name, (0.0, 0.0, 0.0)))
        charged = v[0] * o.cpu_m + v[1] * o.memory_mib + v[2] * o.max_pods
        scale = 1.0 if charged <= o.usd_per_hour else o.usd_per_hour / charged * (1 - 1e-12)
        prices[o.name] = (v[0] * scale, v[1] * scale, v[2] * scale)
    total = 0.0
    for w in problem.workloads:
        demand = placeable(problem, w).count  # every valid plan places at least these
        if demand == 0:
            continue
        share = max(0.0, certificate.spot_share_prices.get(w.name, 0.0))
        pools = certificate.pool_prices.get(w.name, {})
        best: float | None = None
        for o in problem.offerings:
            if not (w.allows(o) and w.fits(o)):
                continue
            v = prices[o.name]
            u = v[0] * w.cpu_m + v[1] * w.memory_mib + v[2]
            if o.capacity_type == "spot":
                u += share + max(0.0, pools.get(o.name, 0.0))
            best = u if best is None else min(best, u)
        if best is None:
            continue  # unplaceable pods are reported apart and cost nothing
        total += demand * best * (1 - _EPS)
        total -= share * w.max_spot_cap()
        total -= sum(max(0.0, p) for p in pools.values()) * w.pool_cap()
    return max(0.0, total)
