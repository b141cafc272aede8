"""The whole product on its embedded defaults: offline model → supervisor → Kubernetes agent → official
client → the sandbox cluster, with the approval gate in between."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from opsgraph.sdk import Assistant
from opsgraph.settings import Settings
from sandbox.testing import SandboxCluster


def _deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": "nginx:1.27",
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


@pytest.fixture
def assistant(sandbox_cluster: SandboxCluster) -> Iterator[Assistant]:
    settings = Settings(checkpoint_url="memory", kubeconfig=sandbox_cluster.kubeconfig, user="erin")
    with Assistant(settings) as a:
        yield a


@pytest.fixture
def apps(sandbox_cluster: SandboxCluster) -> Iterator[k8s.AppsV1Api]:
    api = sandbox_cluster.api_client()
    yield k8s.AppsV1Api(api)
    api.close()


def test_list_pods_answers_from_the_cluster(assistant: Assistant, sandbox_cluster: SandboxCluster) -> None:
    api = sandbox_cluster.api_client()
    pods = [p.metadata.name for p in k8s.CoreV1Api(api).list_namespaced_pod("payments").items]
    api.close()
    assert pods
    result = assistant.ask("list pods in payments")
    assert result.route == ["kubernetes"]
    for name in pods:
        assert name in (result.answer or "")


def test_scale_waits_for_approval_then_applies(
    assistant: Assistant, apps: k8s.AppsV1Api, sandbox_namespace: str
) -> None:
    apps.create_namespaced_deployment(sandbox_namespace, _deployment("web", 1))
    result = assistant.ask(f"scale deploy web to 3 in {sandbox_namespace}")
    assert result.status == "interrupted" and result.approval is not None
    assert "3" in str(result.approval.preview)
    assert apps.read_namespaced_deployment("web", sandbox_namespace).spec.replicas == 1

    done = assistant.approve(result.thread_id)
    assert done.status == "done"
    assert apps.read_namespaced_deployment("web", sandbox_namespace).spec.replicas == 3
    [entry] = assistant.audit(result.thread_id)
    assert (entry.tool, entry.decision, entry.status) == ("scale_deployment", "approved", "ok")


def test_rejected_scale_changes_nothing(
    assistant: Assistant, apps: k8s.AppsV1Api, sandbox_namespace: str
) -> None:
    apps.create_namespaced_deployment(sandbox_namespace, _deployment("web", 2))
    result = assistant.ask(f"scale deploy web to 5 in {sandbox_namespace}")
    assistant.reject(result.thread_id, comment="freeze")
    assert apps.read_namespaced_deployment("web", sandbox_namespace).spec.replicas == 2


def test_read_only_mode_refuses_against_the_cluster(
    sandbox_cluster: SandboxCluster, apps: k8s.AppsV1Api, sandbox_namespace: str
) -> None:
    apps.create_namespaced_deployment(sandbox_namespace, _deployment("web", 1))
    settings = Settings(checkpoint_url="memory", kubeconfig=sandbox_cluster.kubeconfig, read_only=True)
    with Assistant(settings) as assistant:
        result = assistant.ask(f"scale deploy web to 4 in {sandbox_namespace}")
    assert result.status == "done" and "read-only" in (result.answer or "")
    assert apps.read_namespaced_deployment("web", sandbox_namespace).spec.replicas == 1
