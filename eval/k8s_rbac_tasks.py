"""Setup and grading of the two k8s-ai-bench RBAC tasks, written here from their verifier summaries.

Upstream's setup.sh and verify.sh were not copied (scripts are not shipped), so the setup below is ours:
the smallest cluster state the prompt presupposes. Grading asks the API server the same questions
upstream's `kubectl auth can-i --as` does, as SubjectAccessReviews.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RBAC_TASKS", "grade_rbac", "setup_rbac"]

RBAC_TASKS = ("create-simple-rbac", "fix-rbac-wrong-resource")

# (namespace or "" for cluster-wide, verb, resource, expected allowed)
_CHECKS: dict[str, tuple[str, str, list[tuple[str, str, str, bool]]]] = {
    "create-simple-rbac": (
        "create-simple-rbac",
        "reader-sa",
        [
            ("create-simple-rbac", "get", "pods", True),
            ("create-simple-rbac", "list", "pods", True),
            ("create-simple-rbac", "delete", "pods", False),
            ("create-simple-rbac", "create", "pods", False),
            ("default", "create", "pods", False),
            ("", "list", "pods", False),
        ],
    ),
    "fix-rbac-wrong-resource": (
        "simple-rbac-setup",
        "pod-reader",
        [("simple-rbac-setup", "list", "pods", True), ("", "list", "pods", False)],
    ),
}


def setup_rbac(api: Any, task_id: str) -> None:
    """The namespace and service account; for the fix task, a Role bound to the wrong resource."""
    from kubernetes import client

    namespace, account, _ = _CHECKS[task_id]
    core: Any = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": namespace}})
    core.create_namespaced_service_account(namespace, {"metadata": {"name": account}})
    if task_id == "fix-rbac-wrong-resource":
        rbac: Any = client.RbacAuthorizationV1Api(api)
        rules = [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]}]
        rbac.create_namespaced_role(namespace, {"metadata": {"name": "pod-reader"}, "rules": rules})
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": "pod-reader"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
            },
        )


def grade_rbac(api: Any, task_id: str) -> list[str]:
    """The access checks that do not hold (empty when all do)."""
    from kubernetes import client

    namespace, account, checks = _CHECKS[task_id]
    authz: Any = client.AuthorizationV1Api(api)
    user = f"system:serviceaccount:{namespace}:{account}"
    failed = []
    for ns, verb, resource, expected in checks:
        attrs: dict[str, str] = {"verb": verb, "resource": resource}
        if ns:
            attrs["namespace"] = ns
        body = {"spec": {"user": user, "resourceAttributes": attrs}}
        allowed = bool(authz.create_subject_access_review(body).status.allowed)
        if allowed != expected:
            where = f"in {ns}" if ns else "cluster-wide"
            failed.append(f"{account} {'can' if allowed else 'cannot'} {verb} {resource} {where}")
    return failed
