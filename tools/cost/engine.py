"""The cost engine: usage -> right-sizing -> node plans -> allocation, spot risk and savings that add up.

Savings are attributed once, in sequence: node-plan saving = current cost - plan for today's requests;
right-sizing saving = that plan - plan for the right-sized requests. Their sum is current - recommended.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

from pydantic import BaseModel, Field

from tools.cost.allocation import Allocation, current_allocation, plan_allocation
from tools.cost.catalog import CatalogError, PriceCatalog
from tools.cost.cluster import ClusterSnapshot
from tools.cost.commitments import apply_commitments
from tools.cost.daemonsets import reserve_daemonsets
from tools.cost.migration import MigrationPlan, plan_migration
from tools.cost.plan import plan_nodes
from tools.cost.problem import cluster_arch, cluster_problem, inherit_taints
from tools.cost.proposal import NodePoolProposal, propose
from tools.cost.rightsize import (
    ContainerResources,
    Recommendation,
    RightsizeStrategy,
    recommend,
)
from tools.cost.spot_risk import SpotRisk, spot_risk
from tools.cost.usage.base import ContainerRef, ContainerUsage, UsageError, UsageSource, pod_pattern
from verifiers.cost.model import Offering, Plan, PlanProblem

__all__ = ["HOURS_PER_MONTH", "CostReport", "PlanSummary", "default_offerings", "optimize", "summarize_plan"]

HOURS_PER_MONTH = 730.0
_DEFAULT_FAMILIES = {
    "aws": r"^(m7i|m7a|m7g|c7i|c7a|c7g|r7i|r7a|r7g|m6i|c6i|r6i)\.(large|xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge)$",
    "gcp": r"^(n2|n2d|e2|c3)-(standard|highmem|highcpu)-\d+$",
    "azure": r"^Standard_(D|E|F)\d+s_v[56]$",
}


def default_offerings(catalog: PriceCatalog, instance_types: list[str] | None = None) -> list[Offering]:
    """Current-generation general, compute and memory families (84 types on AWS), or the named types."""
    if instance_types is None:
        pattern = re.compile(_DEFAULT_FAMILIES.get(catalog.cloud, r".*"))
        instance_types = [t for t in catalog.instance_types() if pattern.match(t)]
    offerings = catalog.offerings(instance_types)
    if not offerings:
        raise CatalogError(
            f"no priced instance types in {catalog.cloud}/{catalog.region}"
            + (
                ": AWS list prices ship for us-east-1 and GovCloud only; give this region's on-demand prices "
                "in the price file (`[[override]]` with `list_price = true`)"
                if catalog.cloud == "aws"
                else ""
            )
        )
    return offerings


class NodeGroup(BaseModel):
    instance_type: str
    capacity_type: str
    count: int
    usd_per_hour: float
    interruption_bucket: int | None = None


class PlanSummary(BaseModel):
    monthly_cost: float
    lower_bound: float = Field(description="Proven lower bound on the monthly cost of any feasible plan.")
    gap: float
    status: str
    bound_source: str
    solver: str
    solve_seconds: float
    nodes: list[NodeGroup]
    spot_share: float
    expected_interruptions_per_month: float
    unplaceable: dict[str, int]
    unplaceable_reasons: dict[str, str] = Field(default_factory=dict)


def summarize_plan(problem: PlanProblem, plan: Plan) -> PlanSummary:
    offerings = problem.offering_by_name()
    counts: dict[str, int] = defaultdict(int)
    for n in plan.nodes:
        counts[n.offering] += 1
    risk = spot_risk(problem, plan)
    return PlanSummary(
        monthly_cost=round(plan.hourly_cost * HOURS_PER_MONTH, 2),
        lower_bound=round(plan.lower_bound * HOURS_PER_MONTH, 2),
        gap=round(plan.gap, 4),
        status=plan.status,
        bound_source=plan.bound_source,
        solver=plan.solver,
        solve_seconds=round(plan.solve_seconds, 3),
        nodes=[
            NodeGroup(
                instance_type=offerings[k].instance_type,
                capacity_type=offerings[k].capacity_type,
                count=v,
                usd_per_hour=offerings[k].usd_per_hour,
                interruption_bucket=offerings[k].interruption_bucket,
            )
            for k, v in sorted(counts.items())
        ],
        spot_share=round(risk.spot_share, 4),
        expected_interruptions_per_month=round(risk.expected_interruptions_per_month, 3),
        unplaceable=plan.unplaceable,
        unplaceable_reasons=plan.unplaceable_reasons,
    )


class Savings(BaseModel):
    node_plan_monthly: float
    rightsizing_monthly: float
    total_monthly: float


class NamespaceShare(BaseModel):
    """A namespace's part of the cluster-wide figures: its shares of every namespace add up to the cluster's."""

    namespace: str
    current_monthly: float = Field(description="Its allocation today plus its share of the idle cost.")
    recommended_monthly: float = Field(
        description="Its allocation in the cluster-wide right-sized plan plus its share of that plan's idle cost."
    )
    saving_monthly: float


def _share(alloc: Allocation, namespace: str) -> float:
    """`namespace`'s allocation plus its share of the idle cost (by allocation), $/month."""
    allocated = sum(alloc.by_namespace.values())
    mine = alloc.by_namespace.get(namespace, 0.0)
    return (mine + (alloc.idle_usd_per_hour * mine / allocated if allocated else 0.0)) * HOURS_PER_MONTH


class CommitmentBills(BaseModel):
    """Monthly bills with commitments (paid used or not) applied before on-demand."""

    current_monthly: float
    node_plan_monthly: float
    recommended_monthly: float
    saving_monthly: float
    lines: list[str] = Field(description="What each commitment covers in the recommended plan.")


def _commitment_bills(
    snapshot: ClusterSnapshot, catalog: PriceCatalog, plans: list[tuple[PlanProblem, Plan]]
) -> CommitmentBills | None:
    """Today's nodes and the two plans billed with the commitments; None without commitments, or when a
    node of today is of an unknown type (its bill cannot be made)."""
    workers = [n for n in snapshot.nodes if not n.control_plane]
    if not catalog.commitments or not workers or any(not n.instance_type for n in workers):
        return None
    today = []
    for n in workers:
        quote = catalog.quote(n.instance_type or "", "spot" if n.capacity_type == "spot" else "on-demand")
        today.append((quote.instance_type, quote.capacity_type, quote.usd_per_hour))
    bills = [apply_commitments(today, catalog.commitments, catalog.region)]
    for problem, plan in plans:
        offerings = problem.offering_by_name()
        nodes = [offerings[n.offering] for n in plan.nodes]
        bills.append(
            apply_commitments(
                [(o.instance_type, o.capacity_type, o.usd_per_hour) for o in nodes],
                catalog.commitments,
                catalog.region,
            )
        )
    now, mid, after = (round(b.usd_per_hour * HOURS_PER_MONTH, 2) for b in bills)
    return CommitmentBills(
        current_monthly=now, node_plan_monthly=mid, recommended_monthly=after,
        saving_monthly=round(now - after, 2), lines=bills[-1].lines,
    )  # fmt: skip


class CostReport(BaseModel):
    cloud: str
    region: str
    current_monthly: float
    current_source: str
    current_allocation: Allocation
    after_node_plan_monthly: float
    recommended_monthly: float
    recommended_allocation: Allocation
    savings: Savings
    plan: PlanSummary
    spot_risk: SpotRisk
    rightsizing: list[Recommendation]
    notes: list[str] = Field(default_factory=list)
    price_sources: list[str] = Field(default_factory=list)
    nodepool: NodePoolProposal | None = Field(default=None, description="Karpenter NodePools for the plan.")
    cluster_share: NamespaceShare | None = Field(
        default=None,
        description="With a namespace: its share of the cluster-wide plan, which adds up across namespaces.",
    )
    commitments: CommitmentBills | None = Field(
        default=None,
        description="Bills with the price file's RIs and Savings Plans applied before on-demand.",
    )
    migration: MigrationPlan | None = Field(
        default=None, description="Waves from today's nodes to the plan, within the PodDisruptionBudgets."
    )


def _rightsize(
    snapshot: ClusterSnapshot,
    source: UsageSource,
    s: RightsizeStrategy,
    namespace: str | None,
    notes: list[str],
) -> tuple[
    list[Recommendation], dict[str, dict[str, ContainerUsage]], dict[str, dict[str, ContainerResources]]
]:
    """Usage and a recommendation per container; the right-sized containers per workload."""
    recs: list[Recommendation] = []
    usage: dict[str, dict[str, ContainerUsage]] = defaultdict(dict)
    sized: dict[str, dict[str, ContainerResources]] = {}
    for w in snapshot.workloads:
        if namespace and w.namespace != namespace:
            continue
        sized[w.key] = {}
        for cname, res in w.containers.items():
            ref = ContainerRef(namespace=w.namespace, pods=[p.name for p in w.pods], container=cname,
                               pod_pattern=pod_pattern(w.kind, w.name))  # fmt: skip
            try:
                u = source.container_usage(
                    ref, timedelta(days=s.history_days), timedelta(minutes=s.step_minutes)
                )
            except UsageError as exc:
                notes.append(f"{w.key}/{cname}: usage unavailable ({exc})")
                u = ContainerUsage(source=source.name)
            usage[w.key][cname] = u
            rec = recommend(w.key, cname, res, u, s, w.hpa, w.replicas)
            recs.append(rec)
            sized[w.key][cname] = rec.recommended
    return recs, usage, sized


def optimize(
    snapshot: ClusterSnapshot,
    source: UsageSource,
    catalog: PriceCatalog,
    strategy: RightsizeStrategy | None = None,
    offerings: list[Offering] | None = None,
    effort: float = 1.0,
    namespace: str | None = None,
    reconcile: bool = False,
) -> CostReport:
    """The report for the snapshot's workloads, or for one namespace: its workloads are right-sized and
    planned alone, while today's cost is its OpenCost allocation plus its share of the cluster's idle cost
    (the snapshot must then hold every namespace, so the cluster's nodes are shared out correctly). With
    `reconcile`, a namespace's report also plans the whole cluster for its `cluster_share`, which adds up
    across namespaces (plans made per namespace do not)."""
    s = strategy or RightsizeStrategy()
    offerings = offerings if offerings is not None else default_offerings(catalog)
    offerings, notes = inherit_taints(offerings, snapshot)
    offerings, reserved = reserve_daemonsets(offerings, snapshot.daemonsets)
    notes += reserved
    arch = cluster_arch(snapshot, catalog)
    if arch and any(not w.multi_arch for w in snapshot.workloads):
        notes.append(
            f"workloads stay on {arch} (the architecture of every node today); annotate a workload "
            '`opsgraph.io/multi-arch: "true"` to let the plan use other architectures'
        )
    recs, usage, sized = _rightsize(snapshot, source, s, namespace, notes)
    pending = [
        f"{w.key} x{sum(1 for p in w.pods if not p.node) + max(0, w.replicas - len(w.pods))}"
        for w in snapshot.workloads
        if (not namespace or w.namespace == namespace)
        and (any(not p.node for p in w.pods) or w.replicas > len(w.pods))
    ]
    if pending:
        notes.append(
            "pods not running on a node today (pending or missing), so not in today's cost but placed by the "
            "plan: " + ", ".join(pending)
        )
    today = cluster_problem(snapshot, offerings, lambda w: w.containers, arch, namespace)
    scaled = {r.workload: r.hpa_replicas for r in recs if r.hpa_replicas is not None}  # an HPA's replicas
    cp = cluster_problem(snapshot, offerings, lambda w: sized[w.key], arch, namespace, scaled)
    before, after = today.problem, cp.problem
    notes += cp.notes
    if cp.defaulted:
        notes.append(
            f"{len(cp.defaulted)} workload(s) with 2+ replicas keep them on separate nodes (opsgraph's default; "
            'annotate `opsgraph.io/max-per-node: "none"` to allow sharing)'
        )
    if after.zones:
        notes.append(f"nodes are planned in today's zones: {', '.join(after.zones)}")
    plan_before = plan_nodes(before, effort=effort)
    plan_after = plan_nodes(after, effort=effort)
    current_alloc, why = current_allocation(snapshot, catalog, usage)
    if current_alloc is None:
        current_alloc = plan_allocation(before, plan_before)
        current_source = "estimated: today's requests packed optimally (" + "; ".join(why) + ")"
    else:
        workers = [n for n in snapshot.nodes if not n.control_plane]
        current_source = f"the cluster's {len(workers)} worker nodes at catalog prices"
        if len(workers) < len(snapshot.nodes):
            current_source += " (control-plane nodes left out)"
    current = current_alloc.total_usd_per_hour * HOURS_PER_MONTH
    if namespace and current_alloc is not None and "estimated" not in current_source:
        allocated = sum(current_alloc.by_namespace.values())
        mine = current_alloc.by_namespace.get(namespace, 0.0)
        current = _share(current_alloc, namespace)
        current_source += (
            f"; namespace {namespace}: its allocation plus {mine / allocated if allocated else 0.0:.0%} of the "
            "idle cost"
        )
    mid = plan_before.hourly_cost * HOURS_PER_MONTH
    rec_monthly = plan_after.hourly_cost * HOURS_PER_MONTH
    savings = Savings(
        node_plan_monthly=round(current - mid, 2),
        rightsizing_monthly=round(mid - rec_monthly, 2),
        total_monthly=round(current - mid, 2) + round(mid - rec_monthly, 2),
    )
    for name, n in plan_after.unplaceable.items():
        notes.append(
            f"{name}: {n} pod(s) not planned: {plan_after.unplaceable_reasons.get(name, 'no reason given')}"
        )
    cluster_share = None
    if namespace and reconcile and "estimated" not in current_source:
        cluster_share = _cluster_share(snapshot, source, s, offerings, arch, namespace, current_alloc, effort)
        notes.append(
            f"namespace {namespace} planned alone saves ${savings.total_monthly:,.2f}/month; plans made per "
            "namespace do not add up to the cluster's, as namespaces share nodes. In the cluster-wide plan its "
            f"share is ${cluster_share.recommended_monthly:,.2f}/month (saving ${cluster_share.saving_monthly:,.2f}): "
            "those "
            "shares add up to the cluster's saving"
        )
    bills = (
        None
        if namespace
        else _commitment_bills(snapshot, catalog, [(before, plan_before), (after, plan_after)])
    )
    if bills is not None:
        notes.append(
            f"with the price file's commitments (paid whether used or not, applied before on-demand) today's "
            f"bill is ${bills.current_monthly:,.2f}/month and the plan's ${bills.recommended_monthly:,.2f} "
            f"(saving ${bills.saving_monthly:,.2f}); the plan is chosen at catalog prices, so it does not seek "
            "out committed instance types"
        )
    elif catalog.commitments:
        notes.append(
            "commitments are not applied: "
            + (
                "they cover the whole cluster, not one namespace"
                if namespace
                else "a node of today has no known type"
            )
        )
    sources = sorted({catalog.quote(o.instance_type, o.capacity_type).source for o in offerings[:200]})
    if "spot-advisor-estimate" in sources:
        notes.append("AWS spot prices are estimates: on-demand x (1 - Spot Advisor savings %)")
    return CostReport(
        cloud=catalog.cloud, region=catalog.region,
        current_monthly=round(current, 2), current_source=current_source, current_allocation=current_alloc,
        after_node_plan_monthly=round(mid, 2), recommended_monthly=round(rec_monthly, 2),
        recommended_allocation=plan_allocation(after, plan_after), savings=savings,
        plan=summarize_plan(after, plan_after), spot_risk=spot_risk(after, plan_after),
        rightsizing=recs, notes=notes, price_sources=sources,
        nodepool=propose(after, plan_after, cp.labels, cp.defaulted), cluster_share=cluster_share,
        migration=plan_migration(snapshot, plan_after, namespace) if snapshot.nodes else None,
        commitments=bills,
    )  # fmt: skip


def _cluster_share(
    snapshot: ClusterSnapshot,
    source: UsageSource,
    s: RightsizeStrategy,
    offerings: list[Offering],
    arch: str | None,
    namespace: str,
    current_alloc: Allocation,
    effort: float,
) -> NamespaceShare:
    """`namespace`'s share of today's cost and of the cluster-wide right-sized plan (allocation + idle share,
    as OpenCost shares idle), so the namespaces' savings add up to the cluster's."""
    recs, _, sized = _rightsize(snapshot, source, s, None, [])
    scaled = {r.workload: r.hpa_replicas for r in recs if r.hpa_replicas is not None}
    whole = cluster_problem(snapshot, offerings, lambda w: sized[w.key], arch, None, scaled).problem
    after = plan_allocation(whole, plan_nodes(whole, effort=effort))
    current, recommended = _share(current_alloc, namespace), _share(after, namespace)
    return NamespaceShare(
        namespace=namespace, current_monthly=round(current, 2), recommended_monthly=round(recommended, 2),
        saving_monthly=round(current - recommended, 2),
    )  # fmt: skip
