"""RBAC: who may do what, decided from the Roles, ClusterRoles and bindings in the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.resources import find_resource
from sandbox.store import Store

__all__ = [
    "Attributes",
    "Authorizer",
    "User",
    "bootstrap_rbac",
    "forbidden_message",
    "service_account_groups",
]

_RBAC = "rbac.authorization.k8s.io"
_MASTERS = "system:masters"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


def service_account_groups(username: str) -> tuple[str, ...]:
    """The groups a `system:serviceaccount:<namespace>:<name>` user is in; () for any other user."""
    if not username.startswith("system:serviceaccount:"):
        return ()
    ns = username.split(":")[2]
    return ("system:serviceaccounts", f"system:serviceaccounts:{ns}")


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do: a resource request or a non-resource one (`path`)."""

    verb: str
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)


def _subject_matches(subject: dict[str, Any], user: User, namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(name == user.name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return user.name == f"system:serviceaccount:{ns}:{name}"
    return False


def _rule_matches(rule: dict[str, Any], attrs: Attributes) -> bool:
    verbs = rule.get("verbs") or []
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    if not attrs.is_resource:
        return any(
            u == "*" or u == attrs.path or (u.endswith("*") and attrs.path.startswith(u[:-1]))
            for u in rule.get("nonResourceURLs") or []
        )
    groups = rule.get("apiGroups") or []
    if "*" not in groups and attrs.api_group not in groups:
        return False
    wanted = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resources = rule.get("resources") or []
    if not any(
        r in ("*", wanted) or (attrs.subresource and r == f"*/{attrs.subresource}") for r in resources
    ):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


class Authorizer:
    """Decides requests the way the RBAC authorizer does (deny unless some binding allows)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._roles = find_resource(_RBAC, "v1", "roles")
        self._cluster_roles = find_resource(_RBAC, "v1", "clusterroles")
        self._bindings = find_resource(_RBAC, "v1", "rolebindings")
        self._cluster_bindings = find_resource(_RBAC, "v1", "clusterrolebindings")

    def _role_rules(self, ref: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        if ref.get("kind") == "ClusterRole":
            assert self._cluster_roles is not None
            role = self.store.find(self._cluster_roles, "", ref.get("name", ""))
        else:
            assert self._roles is not None
            role = self.store.find(self._roles, namespace, ref.get("name", ""))
        return list((role or {}).get("rules") or [])

    def rules_for(self, user: User, namespace: str) -> list[dict[str, Any]]:
        """Every rule that applies to `user` in `namespace` ("" for cluster-wide rules only)."""
        assert self._cluster_bindings is not None and self._bindings is not None
        rules: list[dict[str, Any]] = []
        for binding in self.store.list(self._cluster_bindings):
            if any(_subject_matches(s, user, "") for s in binding.get("subjects") or []):
                rules += self._role_rules(binding.get("roleRef") or {}, "")
        if namespace:
            for binding in self.store.list(self._bindings, namespace):
                if any(_subject_matches(s, user, namespace) for s in binding.get("subjects") or []):
                    rules += self._role_rules(binding.get("roleRef") or {}, namespace)
        return rules

    def allowed(self, user: User, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason) for a request."""
        if _MASTERS in user.groups:
            return True, "member of system:masters"
        with self.store.lock:
            for rule in self.rules_for(user, attrs.namespace if attrs.is_resource else ""):
                if _rule_matches(rule, attrs):
                    return True, "RBAC: allowed by a role binding"
        return False, ""


def forbidden_message(user: User, attrs: Attributes) -> str:
    """The message the apiserver gives with a 403."""
    if not attrs.is_resource:
        return f'forbidden: User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    subject = f'{resource} "{attrs.name}"' if attrs.name else resource
    where = f' in the namespace "{attrs.namespace}"' if attrs.namespace else " at the cluster scope"
    return (
        f'{subject} is forbidden: User "{user.name}" cannot {attrs.verb} resource "{resource}" '
        f'in API group "{attrs.api_group}"{where}'
    )


def _cluster_role(name: str, rules: list[dict[str, Any]], **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **labels}},
        "rules": rules,
    }


_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_APP_GROUPS = ["", "apps", "batch", "autoscaling", "networking.k8s.io", "policy"]
_APP_RESOURCES = [
    "pods",
    "pods/log",
    "pods/status",
    "services",
    "endpoints",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "persistentvolumeclaims",
    "events",
    "deployments",
    "deployments/scale",
    "deployments/status",
    "replicasets",
    "replicasets/scale",
    "statefulsets",
    "statefulsets/scale",
    "daemonsets",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
    "networkpolicies",
    "ingresses",
    "poddisruptionbudgets",
    "limitranges",
    "resourcequotas",
    "pods/eviction",
]


def bootstrap_rbac() -> list[tuple[str, dict[str, Any]]]:
    """The default ClusterRoles and bindings every cluster starts with, as (plural, object)."""
    view_resources = [r for r in _APP_RESOURCES if r not in ("secrets", "pods/eviction")]
    roles = [
        _cluster_role(
            "cluster-admin",
            [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        ),
        _cluster_role(
            "admin",
            [
                {"apiGroups": _APP_GROUPS, "resources": _APP_RESOURCES, "verbs": _READ + _WRITE},
                {"apiGroups": [_RBAC], "resources": ["roles", "rolebindings"], "verbs": _READ + _WRITE},
            ],
        ),
        _cluster_role(
            "edit", [{"apiGroups": _APP_GROUPS, "resources": _APP_RESOURCES, "verbs": _READ + _WRITE}]
        ),
        _cluster_role(
            "view",
            [
                {"apiGroups": _APP_GROUPS, "resources": view_resources, "verbs": _READ},
                {"apiGroups": [""], "resources": ["namespaces"], "verbs": _READ},
            ],
        ),
        _cluster_role(
            "system:discovery",
            [
                {
                    "nonResourceURLs": [
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                        "/version",
                        "/healthz",
                        "/livez",
                        "/readyz",
                        "/openapi",
                        "/openapi/*",
                    ],
                    "verbs": ["get"],
                }
            ],
        ),
        _cluster_role(
            "system:basic-user",
            [
                {
                    "apiGroups": ["authorization.k8s.io"],
                    "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    "verbs": ["create"],
                },
                {
                    "apiGroups": ["authentication.k8s.io"],
                    "resources": ["selfsubjectreviews"],
                    "verbs": ["create"],
                },
            ],
        ),
    ]
    bindings = [
        {
            "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
            "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": _RBAC, "kind": "Group", "name": group}],
        }
        for name, group in (
            ("cluster-admin", _MASTERS),
            ("system:discovery", "system:authenticated"),
            ("system:basic-user", "system:authenticated"),
        )
    ]
    return [("clusterroles", r) for r in roles] + [("clusterrolebindings", b) for b in bindings]
