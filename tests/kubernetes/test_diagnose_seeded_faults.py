"""Each seeded fault of the demo shop is diagnosed with its cause and the evidence that shows it."""

from __future__ import annotations

import pytest
from langchain_core.tools import BaseTool

from tests.kubernetes.conftest import invoke, pod_named

pytestmark = pytest.mark.usefixtures("seeded")


def test_crashloop_names_the_missing_env_var_from_the_stack_trace(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "shop", "checkout-", "CrashLoopBackOff")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="shop")
    assert "environment variable PAYMENT_SERVICE_URL" in out
    assert "log line: \"KeyError: 'PAYMENT_SERVICE_URL'\"" in out
    assert "Traceback (most recent call last):" in out  # the logs are shown, fenced as data


def test_image_pull_backoff_cites_the_pull_error_and_the_image_field(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "shop", "catalog-", "ImagePullBackOff")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="shop")
    assert "cannot be pulled (the tag or repository does not exist)" in out
    assert "spec.containers[0].image = ghcr.io/opsgraph-demo/catalog:3.1.1" in out
    assert "Failed to pull image" in out


def test_oomkilled_cites_exit_code_and_limit(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "ml", "recommender-")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="ml")
    assert "OOMKilled" in out and "exitCode = 137" in out
    assert "spec.containers[0].resources.limits.memory = 256Mi" in out


def test_pending_for_lack_of_cpu(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "ml", "trainer-", "Pending")
    out = invoke(kube_tools["diagnose_pod"], name=pod, namespace="ml")
    assert "unschedulable" in out and "more CPU/memory than any schedulable node" in out
    assert "Insufficient cpu" in out and "'cpu': '12'" in out


def test_service_selecting_nothing(kube_tools: dict[str, BaseTool]) -> None:
    out = invoke(kube_tools["diagnose_namespace"], namespace="shop")
    assert "Service cart has no endpoints" in out
    assert "its selector app=carts matches no pod in shop" in out and "app=cart," in out


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


def test_deployment_diagnosis_of_a_stuck_rollout(kube_tools: dict[str, BaseTool]) -> None:
    out = invoke(kube_tools["diagnose_deployment"], name="catalog", namespace="shop")
    assert "ImagePullBackOff" in out
    assert "the previous ReplicaSet keeps serving while the rollout is stuck" in out


def test_healthy_pod_has_no_finding(kube_tools: dict[str, BaseTool]) -> None:
    pod = pod_named(kube_tools, "shop", "frontend-", "Running")
    assert "no problem found" in invoke(kube_tools["diagnose_pod"], name=pod, namespace="shop")


def test_secret_values_never_reach_the_model(kube_tools: dict[str, BaseTool]) -> None:
    out = invoke(kube_tools["get_resource"], kind="secret", name="payments-db", namespace="payments")
    assert "redacted" in out and "s3cr3t" not in out and "czNjcjN0" not in out
