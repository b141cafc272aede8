"""Read workloads, pods, HPAs and nodes from a cluster with the official kubernetes client.

Spot eligibility comes from pod-template annotations (`opsgraph.io/spot: "true"|"false"`,
`opsgraph.io/max-spot-share`, `opsgraph.io/min-spot-pools`); without them a Deployment with two or more
replicas may put half its replicas on spot, over at least two pools, and a StatefulSet none.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tools.cost import podspec
from tools.cost.podspec import AntiAffinityTerm, LabelSelector, SpreadConstraint
from tools.cost.rightsize import ContainerResources, HpaTarget, pod_request
from tools.quantity import parse_cpu, parse_memory
from verifiers.cost.scheduling import Requirement, Taint, Toleration

__all__ = [
    "AntiAffinityTerm",
    "ClusterDaemonSet",
    "ClusterNode",
    "ClusterPdb",
    "ClusterPod",
    "ClusterSnapshot",
    "ClusterWorkload",
    "SpreadConstraint",
    "read_cluster",
]


class ClusterPdb(BaseModel):
    """A PodDisruptionBudget: how many of the pods it selects must stay up (or may go) during a drain."""

    namespace: str
    name: str
    selector: LabelSelector
    min_available: str | None = None
    max_unavailable: str | None = None


class ClusterPod(BaseModel):
    name: str
    node: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class ClusterWorkload(BaseModel):
    namespace: str
    kind: str
    name: str
    replicas: int
    containers: dict[str, ContainerResources]
    pods: list[ClusterPod] = Field(default_factory=list)
    node_selector: dict[str, str] = Field(default_factory=dict)
    spot_allowed: bool = False
    max_spot_share: float = 1.0
    min_spot_pools: int = 1
    multi_arch: bool = Field(
        default=False, description="Images run on amd64 and arm64 (annotation opsgraph.io/multi-arch)."
    )
    hpa: HpaTarget | None = None
    pod_labels: dict[str, str] = Field(default_factory=dict, description="The pod template's labels.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Workload and pod-template ones.")
    tolerations: list[Toleration] = Field(default_factory=list)
    node_affinity: list[list[Requirement]] = Field(default_factory=list, description="Required terms.")
    anti_affinity: list[AntiAffinityTerm] = Field(default_factory=list)
    spread: list[SpreadConstraint] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"


class ClusterDaemonSet(BaseModel):
    """A DaemonSet: one pod on every node its node selector, node affinity and tolerations allow."""

    namespace: str
    name: str
    containers: dict[str, ContainerResources]
    node_selector: dict[str, str] = Field(default_factory=dict)
    node_affinity: list[list[Requirement]] = Field(default_factory=list, description="Required terms.")
    tolerations: list[Toleration] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.namespace}/DaemonSet/{self.name}"

    def requests(self) -> tuple[int, float]:
        """CPU (millicores) and memory (MiB) one of its pods requests."""
        return pod_request(self.containers)


class ClusterNode(BaseModel):
    name: str
    instance_type: str | None = None
    capacity_type: str = "on-demand"
    cpu_m: float
    memory_mib: float
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)

    @property
    def control_plane(self) -> bool:
        """Control-plane nodes are not the workloads' to plan: left out of today's cost and of the plan."""
        return any(
            k in self.labels
            for k in ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
        )


class ClusterSnapshot(BaseModel):
    workloads: list[ClusterWorkload]
    nodes: list[ClusterNode]
    daemonsets: list[ClusterDaemonSet] = Field(
        default_factory=list, description="Cluster-wide: their pods take room on every node of any plan."
    )
    pdbs: list[ClusterPdb] = Field(default_factory=list)


def _resources(container: Any) -> ContainerResources:
    res = container.resources
    req = (res.requests if res else None) or {}
    lim = (res.limits if res else None) or {}
    return ContainerResources(
        cpu_request_m=parse_cpu(req["cpu"]) if "cpu" in req else None,
        cpu_limit_m=parse_cpu(lim["cpu"]) if "cpu" in lim else None,
        memory_request_mib=parse_memory(req["memory"]) if "memory" in req else None,
        memory_limit_mib=parse_memory(lim["memory"]) if "memory" in lim else None,
    )


def _hpa(item: Any) -> HpaTarget:
    spec = item.spec
    cpu = mem = None
    other: list[str] = []
    for m in spec.metrics or []:
        if m.type == "Resource" and m.resource and m.resource.target.average_utilization is not None:
            if m.resource.name == "cpu":
                cpu = float(m.resource.target.average_utilization)
            elif m.resource.name == "memory":
                mem = float(m.resource.target.average_utilization)
        else:
            other.append(m.type)
    return HpaTarget(
        name=item.metadata.name, min_replicas=spec.min_replicas or 1, max_replicas=spec.max_replicas,
        cpu_utilization_pct=cpu, memory_utilization_pct=mem, other_metrics=other,
    )  # fmt: skip


def _spot_policy(
    kind: str, replicas: int, annotations: dict[str, str], node_selector: dict[str, str]
) -> tuple[bool, float, int]:
    """Spot permission, max spot share and spot pools. A workload whose node selector asks for spot runs
    on spot only: allowed, share 1 (unless its annotations say otherwise, which the plan then reports)."""
    flag = annotations.get("opsgraph.io/spot")
    if flag is None and node_selector.get("karpenter.sh/capacity-type") == "spot":
        flag = "true"
    allowed = flag == "true" if flag is not None else (kind == "Deployment" and replicas >= 2)
    share = float(annotations.get("opsgraph.io/max-spot-share", "1.0" if flag == "true" else "0.5"))
    pools = int(annotations.get("opsgraph.io/min-spot-pools", "2"))
    return allowed, min(1.0, max(0.0, share)), max(1, pools)


def _labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def read_cluster(api_client: Any, namespace: str | None = None) -> ClusterSnapshot:
    from kubernetes import client

    # the generated client types every field Optional; these reads go through Any on purpose
    apps: Any = client.AppsV1Api(api_client)
    core: Any = client.CoreV1Api(api_client)
    scaling: Any = client.AutoscalingV2Api(api_client)
    if namespace:
        sets = [("Deployment", apps.list_namespaced_deployment(namespace).items),
                ("StatefulSet", apps.list_namespaced_stateful_set(namespace).items)]  # fmt: skip
        pods = core.list_namespaced_pod(namespace).items
        hpas = scaling.list_namespaced_horizontal_pod_autoscaler(namespace).items
    else:
        sets = [("Deployment", apps.list_deployment_for_all_namespaces().items),
                ("StatefulSet", apps.list_stateful_set_for_all_namespaces().items)]  # fmt: skip
        pods = core.list_pod_for_all_namespaces().items
        hpas = scaling.list_horizontal_pod_autoscaler_for_all_namespaces().items
    hpa_by_target = {
        (h.metadata.namespace, h.spec.scale_target_ref.kind, h.spec.scale_target_ref.name): _hpa(h)
        for h in hpas
    }
    workloads: list[ClusterWorkload] = []
    for kind, items in sets:
        for obj in items:
            meta, tmpl = obj.metadata, obj.spec.template
            replicas = obj.spec.replicas if obj.spec.replicas is not None else 1
            selector = (obj.spec.selector.match_labels or {}) if obj.spec.selector else {}
            annotations = (tmpl.metadata.annotations if tmpl.metadata else None) or {}
            allowed, share, pools = _spot_policy(
                kind,
                replicas,
                {**(meta.annotations or {}), **annotations},
                dict(tmpl.spec.node_selector or {}),
            )
            owned = [
                ClusterPod(name=p.metadata.name, node=p.spec.node_name, labels=dict(p.metadata.labels or {}))
                for p in pods
                if p.metadata.namespace == meta.namespace
                and _labels_match(selector, p.metadata.labels or {})
                and (p.status is None or p.status.phase in (None, "Running", "Pending"))
            ]
            workloads.append(
                ClusterWorkload(
                    namespace=meta.namespace, kind=kind, name=meta.name, replicas=replicas,
                    containers={c.name: _resources(c) for c in tmpl.spec.containers},
                    pods=owned, node_selector=dict(tmpl.spec.node_selector or {}),
                    spot_allowed=allowed, max_spot_share=share, min_spot_pools=pools,
                    multi_arch={**(meta.annotations or {}), **annotations}.get("opsgraph.io/multi-arch") == "true",
                    hpa=hpa_by_target.get((meta.namespace, kind, meta.name)),
                    pod_labels=dict((tmpl.metadata.labels if tmpl.metadata else None) or {}),
                    annotations={**(meta.annotations or {}), **annotations},
                    tolerations=podspec.tolerations(tmpl.spec), node_affinity=podspec.node_affinity(tmpl.spec),
                    anti_affinity=podspec.anti_affinity(tmpl.spec), spread=podspec.spread(tmpl.spec),
                )
            )  # fmt: skip
    nodes = []
    for n in core.list_node().items:
        labels = n.metadata.labels or {}
        alloc = (n.status.allocatable if n.status else None) or {}
        capacity = labels.get("karpenter.sh/capacity-type") or labels.get(
            "eks.amazonaws.com/capacityType", ""
        )
        nodes.append(
            ClusterNode(
                name=n.metadata.name,
                instance_type=labels.get("node.kubernetes.io/instance-type")
                or labels.get("beta.kubernetes.io/instance-type"),
                capacity_type="spot" if capacity.lower() == "spot" else "on-demand",
                cpu_m=parse_cpu(alloc.get("cpu", "0")),
                memory_mib=parse_memory(alloc.get("memory", "0")),
                labels=labels,
                taints=podspec.taints(n.spec),
            )
        )
    return ClusterSnapshot(
        workloads=workloads,
        nodes=nodes,
        daemonsets=_daemonsets(apps, namespace),
        pdbs=_pdbs(api_client, namespace),
    )


def _pdbs(api_client: Any, namespace: str | None) -> list[ClusterPdb]:
    """The PodDisruptionBudgets (none when the user may not read them: the migration plan then says so)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    policy: Any = client.PolicyV1Api(api_client)
    try:
        items = (
            policy.list_namespaced_pod_disruption_budget(namespace).items
            if namespace
            else policy.list_pod_disruption_budget_for_all_namespaces().items
        )
    except ApiException as exc:
        if exc.status not in (401, 403, 404):
            raise
        return []
    return [
        ClusterPdb(
            namespace=b.metadata.namespace, name=b.metadata.name, selector=podspec.label_selector(b.spec.selector),
            min_available=None if b.spec.min_available is None else str(b.spec.min_available),
            max_unavailable=None if b.spec.max_unavailable is None else str(b.spec.max_unavailable),
        )
        for b in items
    ]  # fmt: skip


def _daemonsets(apps: Any, namespace: str | None) -> list[ClusterDaemonSet]:
    """Every namespace's DaemonSets (they run on every node, whichever namespace is planned); a user who
    may only read one namespace gets that namespace's."""
    from kubernetes.client.exceptions import ApiException

    try:
        items = apps.list_daemon_set_for_all_namespaces().items
    except ApiException as exc:
        if exc.status not in (401, 403) or not namespace:
            raise
        items = apps.list_namespaced_daemon_set(namespace).items
    return [
        ClusterDaemonSet(
            namespace=d.metadata.namespace,
            name=d.metadata.name,
            containers={c.name: _resources(c) for c in d.spec.template.spec.containers},
            node_selector=dict(d.spec.template.spec.node_selector or {}),
            node_affinity=podspec.node_affinity(d.spec.template.spec),
            tolerations=podspec.tolerations(d.spec.template.spec),
        )
        for d in items
    ]
