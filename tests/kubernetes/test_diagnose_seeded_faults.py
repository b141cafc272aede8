"""Each seeded fault of the demo shop is diagnosed with its cause and the evidence that shows it."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from langchain_core.tools import BaseTool

from tests.kubernetes.conftest import invoke, pod_named


@pytest.mark.usefixtures("seeded")
def test_crashloop_names_the_missing_env_var_from_the_stack_trace(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "shop", "checkout-", "CrashLoopBackOff")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="shop")
    assert "environment variable PAYMENT_SERVICE_URL" in out
    assert "log line: \"KeyError: 'PAYMENT_SERVICE_URL'\"" in out
    assert "Traceback (most recent call last):" in out  # the logs are shown, fenced as data


@pytest.mark.usefixtures("seeded")
def test_image_pull_backoff_cites_the_pull_error_and_the_image_field(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "shop", "catalog-", "ImagePullBackOff")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="shop")
    assert "cannot be pulled (the tag or repository does not exist)" in out
    assert "spec.containers[0].image = ghcr.io/opsgraph-demo/catalog:3.1.1" in out
    assert "Failed to pull image" in out


@pytest.mark.usefixtures("seeded")
def test_oomkilled_cites_exit_code_and_limit(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "ml", "recommender-")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="ml")
    assert "OOMKilled" in out and "exitCode = 137" in out
    assert "spec.containers[0].resources.limits.memory = 256Mi" in out


@pytest.mark.usefixtures("seeded")
def test_pending_for_lack_of_cpu(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "ml", "trainer-", "Pending")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="ml")
    assert "unschedulable" in out and "more CPU/memory than any schedulable node" in out
    assert "Insufficient cpu" in out and "'cpu': '12'" in out


@pytest.mark.usefixtures("seeded")
def test_service_selecting_nothing(kube_tools: dict[str, BaseTool]) -> None:
    out = invoke(kube_tools["diagnose_namespace"], namespace="shop")
    assert "Service cart has no endpoints" in out
    assert "its selector app=carts matches no pod in shop" in out and "app=cart," in out


@pytest.mark.usefixtures("seeded")
def test_service_account_without_permission(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "shop", "inventory-sync-")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="shop")
    assert "ServiceAccount inventory-sync lacks the RBAC permission the app needs (list configmaps)" in out
    review = invoke(
        kube_tools["can_i"],
        verb="list",
        resource="configmaps",
        namespace="shop",
        user="system:serviceaccount:shop:inventory-sync",
    )
    assert review.startswith("no:")


@pytest.mark.usefixtures("seeded")
def test_deployment_diagnosis_of_a_stuck_rollout(kube_tools: dict[str, BaseTool]) -> None:
    out = invoke(kube_tools["diagnose_deployment"], name="catalog", namespace="shop")
    assert "ImagePullBackOff" in out
    assert "the previous ReplicaSet keeps serving while the rollout is stuck" in out


@pytest.mark.usefixtures("seeded")
def test_healthy_pod_has_no_finding(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "shop", "frontend-", "Running")
    assert "no problem found" in invoke(kube_tools["diagnose_pod"], name=pod, namespace="shop")


@pytest.mark.usefixtures("seeded")
def test_secret_values_never_reach_the_model(kube_tools: dict[str, BaseTool]) -> None:
    out = invoke(kube_tools["get_resource"], kind="secret", name="payments-db", namespace="payments")
    assert "redacted" in out and "s3cr3t" not in out and "czNjcjN0" not in out


def test_failing_readiness_probe_and_missing_config_key(
    kube_tools: dict[str, BaseTool], kube_client: Any, sandbox_namespace: str
) -> None:
    core = client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": "web"},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": 8081}},
                    }
                ]
            },
        },
    )
    out = invoke(kube_tools["diagnose_pod"], name="web", namespace=ns)
    assert "running but not Ready" in out and "dial tcp" in out and "8081" in out
    core.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}, "data": {"mode": "x"}})
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": "app"},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "nginx:1.27",
                        "env": [
                            {
                                "name": "LEVEL",
                                "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}},
                            }
                        ],
                    }
                ]
            },
        },
    )
    out = invoke(kube_tools["diagnose_pod"], name="app", namespace=ns)
    assert (
        "CreateContainerConfigError" in out and f"couldn't find key level in ConfigMap {ns}/settings" in out
    )
    core.patch_namespaced_config_map("settings", ns, {"data": {"level": "debug"}})
    assert core.read_namespaced_pod("app", ns).status.container_statuses[0].ready  # fixed by the data alone


def test_pending_on_an_unbound_claim(
    kube_tools: dict[str, BaseTool], kube_client: Any, sandbox_namespace: str
) -> None:
    core = client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    core.create_namespaced_persistent_volume_claim(
        ns,
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "premium",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": "db"},
            "spec": {
                "containers": [{"name": "db", "image": "redis:7"}],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
            },
        },
    )
    out = invoke(kube_tools["diagnose_pod"], name="db", namespace=ns)
    assert "its volume claim is not bound" in out
    assert 'storageclass.storage.k8s.io "premium" not found' in out and "storageClassName premium" in out


@pytest.mark.usefixtures("seeded")
def test_a_workload_name_diagnoses_its_least_healthy_pod(kube_tools: dict[str, BaseTool]) -> None:
    out = invoke(kube_tools["diagnose_pod"], name="catalog", namespace="shop")
    assert out.startswith("no pod is named catalog; diagnosing catalog-") and "ImagePullBackOff" in out
    assert "not found" in invoke(kube_tools["diagnose_pod"], name="nothing-here", namespace="shop")
