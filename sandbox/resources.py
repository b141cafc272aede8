"""The resource types the sandbox serves: group, version, kind, plural, scope and subresources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RESOURCES", "ResourceType", "find_resource", "group_versions"]

_RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_CREATE_ONLY = ("create",)
_READ = ("get", "list")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource, as discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _RW
    categories: tuple[str, ...] = ()
    storage_version: str = ""
    """Set on a version served by conversion from the stored one (autoscaling/v1 over v2)."""
    custom: bool = False
    """Served for a CustomResourceDefinition (`sandbox.crds`), not built in."""
    scale_paths: tuple[str, ...] = ()
    """A custom resource's scale subresource: spec replicas, status replicas and label selector paths."""
    columns: tuple[tuple[str, str, str, int], ...] = ()
    """A custom resource's additionalPrinterColumns: (name, type, JSONPath, priority)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Storage key: objects of one plural in one group share a table."""
        return f"{self.group}/{self.plural}"

    @property
    def qualified(self) -> str:
        """`deployments.apps` as API error messages spell it; plain `pods` for the core group."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def persisted(self) -> bool:
        return self.verbs != _CREATE_ONLY and self.group != "metrics.k8s.io" and not self.storage_version


def _core(kind: str, plural: str, namespaced: bool = True, **kw: tuple[str, ...]) -> ResourceType:
    return ResourceType("", "v1", kind, plural, namespaced, **kw)  # type: ignore[arg-type]


RESOURCES: tuple[ResourceType, ...] = (
    _core("Namespace", "namespaces", False, short_names=("ns",), subresources=("status", "finalize")),
    _core(
        "Pod",
        "pods",
        short_names=("po",),
        subresources=(
            "status",
            "log",
            "binding",
            "eviction",
            "exec",
            "attach",
            "portforward",
            "ephemeralcontainers",
        ),
        categories=("all",),
    ),
    _core("Service", "services", short_names=("svc",), subresources=("status",), categories=("all",)),
    _core("Endpoints", "endpoints", short_names=("ep",)),
    _core("ConfigMap", "configmaps", short_names=("cm",)),
    _core("Secret", "secrets"),
    _core("Node", "nodes", False, short_names=("no",), subresources=("status",)),
    _core("Event", "events", short_names=("ev",)),
    _core("ServiceAccount", "serviceaccounts", short_names=("sa",), subresources=("token",)),
    _core("PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), subresources=("status",)),
    _core("PersistentVolume", "persistentvolumes", False, short_names=("pv",), subresources=("status",)),
    _core("LimitRange", "limitranges", short_names=("limits",)),
    _core("ResourceQuota", "resourcequotas", short_names=("quota",), subresources=("status",)),
    ResourceType(
        "apps", "v1", "Deployment", "deployments", True, ("deploy",), ("status", "scale"), categories=("all",)
    ),
    ResourceType(
        "apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("status", "scale"), categories=("all",)
    ),
    ResourceType(
        "apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("status", "scale"), categories=("all",)
    ),
    ResourceType("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("status",), categories=("all",)),
    ResourceType("batch", "v1", "Job", "jobs", True, (), ("status",), categories=("all",)),
    ResourceType("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("status",), categories=("all",)),
    ResourceType(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        ("status",),
        categories=("all",),
    ),
    ResourceType(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        ("status",),
        categories=("all",),
        storage_version="v2",
    ),
    ResourceType("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ("crd", "crds"),
        ("status",),
        categories=("api-extensions",),
    ),
    ResourceType("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ("pc",)),
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True),
    ResourceType(
        "authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False, verbs=_CREATE_ONLY
    ),
    ResourceType("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    ResourceType("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",), ("status",)),
    ResourceType("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    ResourceType("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), ("status",)),
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        False,
    ),
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        False,
    ),
    ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=_CREATE_ONLY,
    ),
    ResourceType(
        "authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False, verbs=_CREATE_ONLY
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        True,
        verbs=_CREATE_ONLY,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        False,
        verbs=_CREATE_ONLY,
    ),
    ResourceType("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=_READ),
    ResourceType("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=_READ),
)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}


def find_resource(
    group: str, version: str, plural: str, custom: Iterable[ResourceType] = ()
) -> ResourceType | None:
    """A built-in type, or one of `custom` (the types a cluster's CustomResourceDefinitions serve)."""
    found = _BY_PATH.get((group, version, plural))
    if found is None:
        found = next((r for r in custom if (r.group, r.version, r.plural) == (group, version, plural)), None)
    return found


def group_versions(custom: Iterable[ResourceType] = ()) -> dict[str, list[str]]:
    """API group → its versions, in the order discovery lists them (core group under "")."""
    out: dict[str, list[str]] = {}
    for r in (*RESOURCES, *custom):
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return out
