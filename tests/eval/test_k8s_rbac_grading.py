"""The RBAC tasks' setup and SubjectAccessReview grading, against the sandbox's real authorizer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from eval.k8s_rbac_tasks import grade_rbac, setup_rbac
from sandbox.process import SandboxProcess


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    with SandboxProcess(kubeconfig=tmp_path / "kubeconfig") as sandbox:
        api_client = config.new_client_from_config(str(sandbox.kubeconfig))  # type: ignore[no-untyped-call]
        yield api_client
        api_client.close()


def _grant_pod_reading(api: Any, namespace: str, account: str, name: str) -> None:
    rbac = client.RbacAuthorizationV1Api(api)
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": rules})
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
    )


def test_create_simple_rbac_is_graded_by_access_reviews(api: Any) -> None:
    setup_rbac(api, "create-simple-rbac")
    before = grade_rbac(api, "create-simple-rbac")
    assert "reader-sa cannot get pods in create-simple-rbac" in before
    _grant_pod_reading(api, "create-simple-rbac", "reader-sa", "pod-reader")
    assert grade_rbac(api, "create-simple-rbac") == []


def test_fix_rbac_wrong_resource_starts_broken_and_is_fixable(api: Any) -> None:
    setup_rbac(api, "fix-rbac-wrong-resource")
    assert grade_rbac(api, "fix-rbac-wrong-resource") == ["pod-reader cannot list pods in simple-rbac-setup"]
    rbac = client.RbacAuthorizationV1Api(api)
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    rbac.patch_namespaced_role("pod-reader", "simple-rbac-setup", {"rules": rules})
    assert grade_rbac(api, "fix-rbac-wrong-resource") == []
