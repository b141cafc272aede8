"""RBAC per kubeconfig user, access reviews, and watch through the official client."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from sandbox.testing import SandboxCluster


@pytest.mark.usefixtures("sandbox_only")
def test_user_without_binding_gets_403(sandbox_cluster: SandboxCluster) -> None:
    intern = client.CoreV1Api(sandbox_cluster.api_client("sandbox-intern"))
    with pytest.raises(ApiException) as err:
        intern.list_namespaced_pod("shop")
    body = json.loads(err.value.body)
    assert err.value.status == 403 and body["reason"] == "Forbidden"
    assert (
        body["message"]
        == 'pods is forbidden: User "intern" cannot list resource "pods" in API group "" in the namespace "shop"'
    )


@pytest.mark.usefixtures("sandbox_only")
def test_viewer_reads_but_cannot_write(sandbox_cluster: SandboxCluster) -> None:
    viewer = client.AppsV1Api(sandbox_cluster.api_client("sandbox-viewer"))
    assert viewer.read_namespaced_deployment("frontend", "shop").spec.replicas >= 1
    with pytest.raises(ApiException) as err:
        viewer.patch_namespaced_deployment_scale("frontend", "shop", {"spec": {"replicas": 9}})
    assert err.value.status == 403 and "deployments/scale" in json.loads(err.value.body)["message"]


@pytest.mark.usefixtures("sandbox_only")
def test_self_subject_access_review_answers_from_bindings(sandbox_cluster: SandboxCluster) -> None:
    def can(context: str, verb: str, resource: str, namespace: str, group: str = "") -> bool:
        auth = client.AuthorizationV1Api(sandbox_cluster.api_client(context))
        review = {
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "resource": resource,
                    "namespace": namespace,
                    "group": group,
                }
            }
        }
        return bool(auth.create_self_subject_access_review(review).status.allowed)

    assert can("sandbox-developer", "update", "deployments", "shop", "apps")
    assert not can("sandbox-developer", "update", "deployments", "kube-system", "apps")
    assert can("sandbox-viewer", "list", "pods", "kube-system")
    assert not can("sandbox-viewer", "get", "secrets", "payments")
    assert not can("sandbox-intern", "get", "pods", "shop")


@pytest.mark.usefixtures("sandbox_only")
def test_subject_access_review_for_a_service_account(kube_client: Any) -> None:
    auth = client.AuthorizationV1Api(kube_client)
    review = {
        "spec": {
            "user": "system:serviceaccount:shop:inventory-sync",
            "resourceAttributes": {"verb": "list", "resource": "configmaps", "namespace": "shop"},
        }
    }
    assert auth.create_subject_access_review(review).status.allowed is False


def test_watch_streams_added_modified_deleted(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    start = core.list_namespaced_config_map(sandbox_namespace).metadata.resource_version
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        w = watch.Watch()
        for event in w.stream(
            core.list_namespaced_config_map,
            sandbox_namespace,
            resource_version=start,
            timeout_seconds=5,
            label_selector="w=1",
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                w.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.2)
    core.create_namespaced_config_map(sandbox_namespace, {"metadata": {"name": "x", "labels": {"w": "1"}}})
    core.create_namespaced_config_map(sandbox_namespace, {"metadata": {"name": "unrelated"}})
    core.patch_namespaced_config_map("x", sandbox_namespace, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("x", sandbox_namespace)
    thread.join(10)
    assert seen == [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x")]
