"""Spot risk: expected interruptions per month from the Spot Advisor's interruption-frequency buckets.

A bucket is the share of instances of a type reclaimed in the trailing month (<5 %, 5-10 %, ...). The
expected number of interruptions of a node per month is taken as the bucket's midpoint (25 % for ">20 %",
a floor, not a bound). Nodes with no bucket (GCP, overrides without data) count as the ">20 %" bucket.
"""

from __future__ import annotations

from pydantic import BaseModel

from verifiers.cost.model import Plan, PlanProblem

__all__ = ["BUCKET_MONTHLY_RATE", "SpotRisk", "spot_risk"]

BUCKET_MONTHLY_RATE = {0: 0.025, 1: 0.075, 2: 0.125, 3: 0.175, 4: 0.25}


class SpotRisk(BaseModel):
    spot_nodes: int
    spot_share: float
    """Share of placed pods that run on spot."""
    expected_interruptions_per_month: float
    """Expected spot node interruptions per month over the whole plan."""
    expected_pod_evictions_per_month: dict[str, float]
    """Workload -> expected evictions of its pods per month."""
    assumption: str = (
        "interruption rate per node-month = the Spot Advisor bucket's midpoint (>20 % counted as 25 %)"
    )


def spot_risk(problem: PlanProblem, plan: Plan) -> SpotRisk:
    offerings = problem.offering_by_name()
    nodes = 0
    interruptions = 0.0
    spot_pods = all_pods = 0
    evictions: dict[str, float] = {}
    for node in plan.nodes:
        o = offerings[node.offering]
        count = sum(node.pods.values())
        all_pods += count
        if o.capacity_type != "spot":
            continue
        rate = BUCKET_MONTHLY_RATE.get(
            o.interruption_bucket if o.interruption_bucket is not None else 4, 0.25
        )
        nodes += 1
        interruptions += rate
        spot_pods += count
        for name, n in node.pods.items():
            evictions[name] = evictions.get(name, 0.0) + n * rate
    return SpotRisk(
        spot_nodes=nodes,
        spot_share=spot_pods / all_pods if all_pods else 0.0,
        expected_interruptions_per_month=interruptions,
        expected_pod_evictions_per_month={k: round(v, 4) for k, v in sorted(evictions.items())},
    )
