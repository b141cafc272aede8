"""Node-plan changes are proposed, never applied: Karpenter NodePools that reproduce the plan, and the
scheduling rules the workloads need for Karpenter to keep what the plan keeps.

One NodePool per planned (instance type, capacity type), its `limits` the planned nodes' resources, so
Karpenter opens at most the planned nodes of each; the largest types weigh most, so the largest pods open
them first (of equal size, the type fewer workloads may use); fallback pools over every instance type the plan considered (weight 1, no limits; on-demand,
and spot for the spot-tolerant pods a capacity-type spread sends there) take what the packing leaves over,
so no pod stays pending. Spot pools carry the taint `opsgraph.io/spot=true:NoSchedule`: only workloads the plan puts
on spot tolerate it, and they spread over `karpenter.sh/capacity-type` (max skew 1), which is how Karpenter
keeps a spot share: it places each pod in the capacity type with fewer of the workload's pods, so half go to
spot (one more or one fewer with an odd count). A workload the plan keeps below half on spot gets no spot
toleration (all on-demand: dearer, never riskier). Availability rules opsgraph added by default (no two
replicas on one node) become a topology spread over the hostname.

`check_proposal` runs Karpenter's provisioning (`tools.cost.plan.karpenter`) on the proposal and compares
the nodes it would launch with the plan.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from tools.cost.plan.karpenter import NodePoolSpec, simulate
from verifiers.cost.model import CapacityType, Offering, Plan, PlannedNode, PlanProblem, Workload
from verifiers.cost.scheduling import Taint, Toleration
from verifiers.cost.validate import validate_plan

__all__ = ["NodePoolProposal", "PoolProposal", "ProposalCheck", "WorkloadPatch", "check_proposal", "propose"]

SPOT_TAINT = Taint(key="opsgraph.io/spot", value="true", effect="NoSchedule")
_SPOT_TOLERATION = Toleration(key="opsgraph.io/spot", operator="Equal", value="true", effect="NoSchedule")


class PoolProposal(BaseModel):
    name: str
    capacity_type: CapacityType
    instance_types: list[str]
    zones: list[str] = Field(default_factory=list)
    weight: int
    planned_nodes: int | None = Field(description="Nodes of this pool in the plan (None: the fallback).")
    cpu_limit_m: int | None = None
    memory_limit_mib: int | None = None
    taints: list[Taint] = Field(default_factory=list)


class WorkloadPatch(BaseModel):
    workload: str
    labels: dict[str, str] = Field(description="The workload's pod labels (its selector).")
    tolerate_spot: bool = False
    capacity_spread: bool = Field(default=False, description="Spread over karpenter.sh/capacity-type.")
    hostname_max_skew: int | None = Field(default=None, description="Spread over the hostname.")


class NodePoolProposal(BaseModel):
    pools: list[PoolProposal]
    patches: list[WorkloadPatch]
    notes: list[str] = Field(default_factory=list)

    def yaml(self, header: list[str] | None = None) -> str:
        """The NodePools and the workload patches, as YAML documents to review and apply by hand."""
        lines = [f"# {h}" for h in header or []]
        lines.append(
            "# Proposed by opsgraph cost plan: review, then apply it yourself (opsgraph applies no node changes)."
        )
        lines += [f"# note: {n}" for n in self.notes]
        for pool in self.pools:
            lines += _pool_yaml(pool)
        for patch in self.patches:
            lines += _patch_yaml(patch)
        return "\n".join(lines) + "\n"


def _pool_yaml(pool: PoolProposal) -> list[str]:
    planned = (
        f"{pool.planned_nodes} planned node(s)" if pool.planned_nodes is not None else "fallback, no limits"
    )
    out = ["---", f"# {pool.capacity_type}: {planned}", "apiVersion: karpenter.sh/v1", "kind: NodePool",
           "metadata:", f"  name: {pool.name}", "spec:", f"  weight: {pool.weight}", "  template:", "    spec:",
           "      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}",
           "      requirements:",
           "        - {key: karpenter.sh/capacity-type, operator: In, values: [" + pool.capacity_type + "]}",
           "        - {key: node.kubernetes.io/instance-type, operator: In, values: [" + ", ".join(pool.instance_types) + "]}"]  # fmt: skip
    if pool.zones:
        lines = (
            "        - {key: topology.kubernetes.io/zone, operator: In, values: ["
            + ", ".join(pool.zones)
            + "]}"
        )
        out.append(lines)
    if pool.taints:
        out.append("      taints:")
        out += [f'        - {{key: {t.key}, value: "{t.value}", effect: {t.effect}}}' for t in pool.taints]
    if pool.cpu_limit_m is not None and pool.memory_limit_mib is not None:
        out += ["  limits:", f'    cpu: "{pool.cpu_limit_m}m"', f"    memory: {pool.memory_limit_mib}Mi"]
    out += ["  disruption:", "    consolidationPolicy: WhenEmptyOrUnderutilized"]
    return out


def _patch_yaml(patch: WorkloadPatch) -> list[str]:
    namespace, kind, name = patch.workload.split("/", 2)
    labels = ", ".join(f"{k}: {v}" for k, v in sorted(patch.labels.items()))
    out = ["---", f"# patch for {kind} {namespace}/{name} (kubectl patch --type strategic)", f"kind: {kind}",
           f"metadata: {{name: {name}, namespace: {namespace}}}", "spec:", "  template:", "    spec:"]  # fmt: skip
    if patch.tolerate_spot:
        out += [
            "      tolerations:",
            '        - {key: opsgraph.io/spot, operator: Equal, value: "true", effect: NoSchedule}',
        ]
    spreads = []
    if patch.capacity_spread:
        spreads.append(("karpenter.sh/capacity-type", 1))
    if patch.hostname_max_skew is not None:
        spreads.append(("kubernetes.io/hostname", patch.hostname_max_skew))
    if spreads:
        out.append("      topologySpreadConstraints:")
        for key, skew in spreads:
            out += [f"        - {{topologyKey: {key}, maxSkew: {skew}, whenUnsatisfiable: DoNotSchedule,",
                    f"           labelSelector: {{matchLabels: {{{labels}}}}}}}"]  # fmt: skip
    return out


def _size(o: Offering) -> int:
    return o.cpu_m


def propose(
    problem: PlanProblem,
    plan: Plan,
    labels: dict[str, dict[str, str]] | None = None,
    defaulted: set[str] | None = None,
    prefix: str = "opsgraph",
) -> NodePoolProposal:
    """NodePools and workload patches for `plan`. `labels[workload]`: its pod labels (for the patches'
    selectors); `defaulted`: workloads whose per-node cap opsgraph set by default (their spec lacks it)."""
    offerings = problem.offering_by_name()
    counts = Counter(n.offering for n in plan.nodes)
    users = {k: sum(1 for w in problem.workloads if w.allows(offerings[k])) for k in counts}
    # larger types first; of equal size, the one fewer workloads may use (the others stay free for those
    # that can use nothing else)
    planned = sorted(
        counts, key=lambda k: (offerings[k].capacity_type, _size(offerings[k]), -users[k], k), reverse=True
    )
    pools = []
    for rank, name in enumerate(planned):
        o, n = offerings[name], counts[name]
        pools.append(
            PoolProposal(
                name=f"{prefix}-{o.capacity_type}-{o.instance_type.replace('.', '-')}".lower(),
                capacity_type=o.capacity_type, instance_types=[o.instance_type], zones=list(problem.zones),
                weight=100 - rank if rank < 99 else 2, planned_nodes=n, cpu_limit_m=o.cpu_m * n,
                memory_limit_mib=int(o.memory_mib * n), taints=[SPOT_TAINT] if o.capacity_type == "spot" else [],
            )
        )  # fmt: skip
    od_types = sorted({o.instance_type for o in problem.offerings if o.capacity_type == "on-demand"})
    pools.append(PoolProposal(name=f"{prefix}-fallback", capacity_type="on-demand", instance_types=od_types,
                              zones=list(problem.zones), weight=1, planned_nodes=None))  # fmt: skip
    spot_types = sorted({o.instance_type for o in problem.offerings if o.capacity_type == "spot"})
    if spot_types and any(offerings[k].capacity_type == "spot" for k in counts):
        pools.append(PoolProposal(name=f"{prefix}-fallback-spot", capacity_type="spot", instance_types=spot_types,
                                  zones=list(problem.zones), weight=1, planned_nodes=None, taints=[SPOT_TAINT]))  # fmt: skip
    spot_pods: Counter[str] = Counter()
    for node in plan.nodes:
        if offerings[node.offering].capacity_type == "spot":
            spot_pods.update(node.pods)
    patches, notes = [], []
    for w in problem.workloads:
        tolerate = spot_pods[w.name] > 0 and w.max_spot_cap() >= w.replicas // 2
        if spot_pods[w.name] and not tolerate:
            notes.append(
                f"{w.name}: its spot cap ({w.max_spot_cap()} of {w.replicas}) is below the half a capacity-type "
                "spread keeps; proposed on-demand only"
            )
        skew = w.max_per_node if defaulted and w.name in defaulted else None
        if tolerate or skew is not None:
            patches.append(
                WorkloadPatch(workload=w.name, labels=(labels or {}).get(w.name) or {"app": w.name.rsplit("/", 1)[-1]},
                              tolerate_spot=tolerate, capacity_spread=tolerate, hostname_max_skew=skew)
            )  # fmt: skip
    return NodePoolProposal(pools=pools, patches=patches, notes=notes)


class ProposalCheck(BaseModel):
    """What Karpenter would launch for the proposal, against the plan."""

    hourly_cost: float
    plan_hourly_cost: float
    pending: dict[str, int]
    violations: list[str] = Field(description="Plan rules the launched nodes break (validator's words).")
    nodes: list[PlannedNode]

    @property
    def ratio(self) -> float:
        return self.hourly_cost / self.plan_hourly_cost if self.plan_hourly_cost else 1.0


def _as_karpenter_sees(w: Workload, patch: WorkloadPatch | None) -> Workload:
    """The workload as Karpenter schedules it after the patches: it knows no spot caps, only tolerations."""
    tolerate = patch is not None and patch.tolerate_spot
    return w.model_copy(
        update={"spot_allowed": tolerate, "max_spot_share": 1.0, "spot_cap": None, "min_spot_pools": 1,
                "spot_pool_cap": None, "tolerations": (*w.tolerations, _SPOT_TOLERATION) if tolerate else w.tolerations}
    )  # fmt: skip


def check_proposal(problem: PlanProblem, plan: Plan, proposal: NodePoolProposal) -> ProposalCheck:
    """Karpenter's provisioning of `problem`'s pods under the proposal's pools and patches."""
    by_type: dict[tuple[str, str], Offering] = {
        (o.instance_type, o.capacity_type): o for o in problem.offerings
    }
    specs = []
    for pool in proposal.pools:
        offers = tuple(
            o.model_copy(update={"taints": (*o.taints, *pool.taints)})
            for t in pool.instance_types
            if (o := by_type.get((t, pool.capacity_type))) is not None
        )
        specs.append(NodePoolSpec(pool.name, offers, tuple(pool.zones), tuple(pool.taints), pool.weight,
                                  pool.cpu_limit_m, pool.memory_limit_mib))  # fmt: skip
    patches = {p.workload: p for p in proposal.patches}
    seen = PlanProblem(
        workloads=[_as_karpenter_sees(w, patches.get(w.name)) for w in problem.workloads],
        offerings=[o for s in specs for o in s.offerings],
        zones=problem.zones,
    )
    skew = {p.workload: 1 for p in proposal.patches if p.capacity_spread}
    nodes, pending = simulate(seen, specs, keep_spot_caps=False, capacity_skew=skew)
    offerings = problem.offering_by_name()
    cost = sum(offerings[n.offering].usd_per_hour for n in nodes)
    launched = Plan(nodes=nodes, unplaceable=pending, hourly_cost=cost, lower_bound=0.0, bound_source="none",
                    status="feasible", solver="karpenter-simulation")  # fmt: skip
    violations = [e for e in validate_plan(problem, launched).errors if not e.startswith("/unplaceable")]
    return ProposalCheck(hourly_cost=cost, plan_hourly_cost=plan.hourly_cost, pending=pending,
                         violations=violations, nodes=nodes)  # fmt: skip
