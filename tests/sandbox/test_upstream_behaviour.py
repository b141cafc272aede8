"""Upstream behaviours the sandbox copies (issue 17, second round): each test names the apiserver,
controller or image behaviour it checks."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL, kubectl

pytestmark = pytest.mark.usefixtures("sandbox_only")


def _service(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def test_delete_answers_the_object_or_a_status_per_kind(kube_client: Any, sandbox_namespace: str) -> None:
    """Registries built with ReturnDeletedObject (pods, services, serviceaccounts, PVCs, ...) answer a
    DELETE with the deleted object, which the official client reads as its model (V1Service); the others
    answer Status{status: Success, details: {name, group, kind: <resource>, uid}}."""
    core, apps = client.CoreV1Api(kube_client), client.AppsV1Api(kube_client)
    ns = sandbox_namespace
    created = core.create_namespaced_service(ns, _service("web"))
    deleted = core.delete_namespaced_service("web", ns)
    assert isinstance(deleted, client.V1Service)
    assert deleted.metadata.name == "web" and deleted.metadata.uid == created.metadata.uid
    core.create_namespaced_service_account(ns, {"metadata": {"name": "robot"}})
    assert core.delete_namespaced_service_account("robot", ns).metadata.name == "robot"
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim(ns, claim)
    assert isinstance(
        core.delete_namespaced_persistent_volume_claim("data", ns), client.V1PersistentVolumeClaim
    )
    core.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}})
    status = kube_client.sanitize_for_serialization(core.delete_namespaced_config_map("settings", ns))
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"]["name"] == "settings" and status["details"]["kind"] == "configmaps"
    deployment = {
        "metadata": {"name": "api"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    uid = apps.create_namespaced_deployment(ns, deployment).metadata.uid
    status = kube_client.sanitize_for_serialization(apps.delete_namespaced_deployment("api", ns))
    assert status["details"] == {"name": "api", "group": "apps", "kind": "deployments", "uid": uid}


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_deletes_a_service(
    sandbox_cluster: SandboxCluster, kube_client: Any, sandbox_namespace: str
) -> None:
    client.CoreV1Api(kube_client).create_namespaced_service(sandbox_namespace, _service("web"))
    out = kubectl(sandbox_cluster, "delete", "service", "web", "-n", sandbox_namespace)
    assert out.returncode == 0 and 'service "web" deleted' in out.stdout, out.stderr
