"""The Kubernetes API calls opsgraph's tools make, per deployment profile, and the least-privilege RBAC rules
for them (`verifiers.kubernetes.least_privilege_rules`, the same synthesis `synthesize_role` offers users).

`read`: every read, diagnose, metrics and cost-report tool, across namespaces (nodes, webhooks and
cluster-wide lists are cluster-scoped, so the rules go into a ClusterRole). `write`: `read` plus the calls
of the approval-gated tools, with the generic ones (`patch_resource`, `apply_manifest`, `delete_resource`)
limited to `WRITABLE`. The calls were taken from the API requests each tool sends to the sandbox
(tests/deploy/test_rbac_profiles.py runs every tool as the deployed ServiceAccount and fails on a 403
outside `NOT_GRANTED`).
"""

from __future__ import annotations

from typing import Any, Literal

from verifiers.kubernetes import ApiCall, least_privilege_rules, parse_call

__all__ = ["NOT_GRANTED", "PROFILES", "READABLE", "WRITABLE", "Profile", "profile_calls", "profile_rules"]

Profile = Literal["read", "write"]
PROFILES: tuple[Profile, ...] = ("read", "write")

READABLE = (
    "pods",
    "services",
    "endpoints",
    "events",
    "configmaps",
    "persistentvolumeclaims",
    "serviceaccounts",
    "namespaces",
    "nodes",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
    "ingresses",
    "networkpolicies",
    "poddisruptionbudgets",
    "roles",
    "rolebindings",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
)
"""Kinds `list_resources`/`get_resource`/`describe_resource` may read (and the diagnose tools do). Not Secrets."""

WRITABLE = (
    "configmaps",
    "services",
    "deployments",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
    "poddisruptionbudgets",
    "networkpolicies",
    "ingresses",
)
"""Kinds `apply_manifest`, `patch_resource` and `delete_resource` may change in the write profile."""

_READ_CALLS = (
    *(f"{verb} {kind}" for kind in READABLE for verb in ("get", "list")),
    "get pods/log",  # pod_logs, diagnose_*
    "get nodes.metrics.k8s.io",  # node_usage
    "list nodes.metrics.k8s.io",
    "get pods.metrics.k8s.io",  # cost usage from the metrics API
    "list pods.metrics.k8s.io",
    "list mutatingwebhookconfigurations.admissionregistration.k8s.io",  # diagnose_cluster
    "list validatingwebhookconfigurations.admissionregistration.k8s.io",
    "create selfsubjectaccessreviews.authorization.k8s.io",  # can_i
    "create subjectaccessreviews.authorization.k8s.io",  # can_i --user, synthesize_role's baseline
)

_WRITE_CALLS = (
    "patch deployments",  # rollout_restart, set_image, set_env, set_resources, rollback, apply_rightsizing
    "patch deployments/scale",  # scale_deployment
    "update deployments/scale",  # scale_deployment once approved: a PUT of the Scale at the previewed version
    "patch statefulsets",  # apply_rightsizing
    "patch daemonsets",
    "patch nodes",  # cordon_node, uncordon_node, drain_node
    "create pods/eviction",  # drain_node
    "delete pods",  # delete_resource of a pod (its controller makes a new one)
    "create pods/exec",  # exec_in_pod (Kubernetes 1.31 asks `create` for the WebSocket GET too)
    *(f"{verb} {kind}" for kind in WRITABLE for verb in ("create", "patch", "delete")),
)

NOT_GRANTED = {
    "create roles.rbac.authorization.k8s.io": (
        "synthesize_role's server dry run of the Role it proposes: creating RBAC objects is a way to escalate, "
        "so neither profile may; the tool reports the 403 and keeps its own proof"
    ),
    "create rolebindings.rbac.authorization.k8s.io": "the same, for the RoleBinding it proposes",
}
"""Calls a tool may try that the profiles deliberately leave out, with the reason (a 403 there is expected)."""


def profile_calls(profile: Profile) -> list[ApiCall]:
    """The API calls of a profile, parsed (`ValueError` for an unknown profile)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")
    texts = _READ_CALLS + (_WRITE_CALLS if profile == "write" else ())
    return [parse_call(text) for text in dict.fromkeys(texts)]


def profile_rules(profile: Profile) -> list[dict[str, Any]]:
    """The least-privilege PolicyRules that allow exactly the profile's calls."""
    return least_privilege_rules(profile_calls(profile))
