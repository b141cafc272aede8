"""The planning problem of a cluster snapshot: its workloads with their rules, the offerings and zones.

Zones are those of today's worker nodes (a plan keeps the cluster's zones); workloads keep the CPU
architecture all of today's nodes share unless annotated multi-arch; a capacity type's offerings carry the
taints every one of today's nodes of that type carries (a tainted spot pool stays tainted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tools.cost.availability import availability_rules
from tools.cost.catalog import CatalogError, PriceCatalog
from tools.cost.cluster import ClusterSnapshot, ClusterWorkload
from tools.cost.rightsize import ContainerResources, pod_request
from verifiers.cost.model import Offering, PlanProblem, Workload
from verifiers.cost.scheduling import ZONE_LABEL

__all__ = ["ClusterProblem", "cluster_arch", "cluster_problem", "cluster_zones", "inherit_taints"]


def cluster_arch(snapshot: ClusterSnapshot, catalog: PriceCatalog) -> str | None:
    """The one CPU architecture all of today's nodes share, if they do (images are assumed built for it)."""
    archs: set[str] = set()
    for node in snapshot.nodes:
        arch = node.labels.get("kubernetes.io/arch")
        if arch is None and node.instance_type:
            try:
                arch = catalog.spec(node.instance_type).arch
            except CatalogError:
                arch = None
        if arch is None:
            return None
        archs.add(arch)
    return archs.pop() if len(archs) == 1 else None


def cluster_zones(snapshot: ClusterSnapshot) -> list[str]:
    """The zones of today's worker nodes (none labelled: zones are not planned)."""
    return sorted(
        {n.labels[ZONE_LABEL] for n in snapshot.nodes if not n.control_plane and n.labels.get(ZONE_LABEL)}
    )


def inherit_taints(offerings: list[Offering], snapshot: ClusterSnapshot) -> tuple[list[Offering], list[str]]:
    """Offerings of a capacity type carry the taints all of today's workers of that type carry."""
    notes = []
    out = list(offerings)
    for kind in ("on-demand", "spot"):
        nodes = [n for n in snapshot.nodes if not n.control_plane and n.capacity_type == kind]
        if not nodes:
            continue
        common = set(nodes[0].taints).intersection(*(set(n.taints) for n in nodes[1:]))
        if common:
            taints = tuple(sorted(common, key=lambda t: (t.key, t.value, t.effect)))
            out = [o.model_copy(update={"taints": taints}) if o.capacity_type == kind else o for o in out]
            notes.append(
                f"{kind} nodes keep today's taints: "
                + ", ".join(f"{t.key}={t.value}:{t.effect}" for t in taints)
            )
    return out, notes


@dataclass
class ClusterProblem:
    problem: PlanProblem
    defaulted: set[str] = field(default_factory=set)
    """Workloads whose per-node cap is opsgraph's default."""
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _workload(w: ClusterWorkload, containers: dict[str, ContainerResources], arch: str | None,
              fields: dict[str, object], replicas: int) -> Workload:  # fmt: skip
    cpu, mem = pod_request(containers)
    selector = dict(w.node_selector)
    if arch and not w.multi_arch:
        selector.setdefault("kubernetes.io/arch", arch)
    return Workload.model_validate(
        {"name": w.key, "namespace": w.namespace, "replicas": replicas, "cpu_m": cpu, "memory_mib": mem,
         "node_selector": selector, "spot_allowed": w.spot_allowed, "max_spot_share": w.max_spot_share,
         "min_spot_pools": w.min_spot_pools, **fields}
    )  # fmt: skip


def cluster_problem(
    snapshot: ClusterSnapshot,
    offerings: list[Offering],
    containers: Callable[[ClusterWorkload], dict[str, ContainerResources]],
    arch: str | None,
    namespace: str | None = None,
    replicas: dict[str, int] | None = None,
) -> ClusterProblem:
    """The problem for the snapshot's workloads (of `namespace`, if given), each with the containers
    `containers(w)` gives (today's or right-sized), and `replicas[workload]` where given (an HPA's)."""
    out = ClusterProblem(PlanProblem(workloads=[], offerings=offerings, zones=cluster_zones(snapshot)))
    for w in snapshot.workloads:
        if namespace and w.namespace != namespace:
            continue
        rules = availability_rules(w, snapshot.workloads)
        count = (replicas or {}).get(w.key, w.replicas)
        out.problem.workloads.append(_workload(w, containers(w), arch, rules.fields, count))
        out.notes += rules.notes
        out.labels[w.key] = w.pod_labels
        if rules.defaulted:
            out.defaulted.add(w.key)
    return out
