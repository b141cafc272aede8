"""The kagent challenges' golden app in the sandbox: healthy at start, and breakages diagnosed as such."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config
from langchain_core.tools import BaseTool

from sandbox.process import SandboxProcess
from tools.base import ToolContext
from tools.kubernetes import build_tools


@pytest.fixture(scope="module")
def kagent() -> Iterator[tuple[Any, dict[str, BaseTool]]]:
    with SandboxProcess(scenario="kagent") as proc:
        api = config.new_client_from_config(str(proc.kubeconfig))
        yield api, {t.name: t for t in build_tools(ToolContext(kubeconfig=proc.kubeconfig))}
        api.close()


def _diagnosis(tools: dict[str, BaseTool]) -> str:
    return str(tools["diagnose_namespace"].invoke({"namespace": "default"}))


def test_golden_app_is_healthy_then_breakages_show(kagent: tuple[Any, dict[str, BaseTool]]) -> None:
    api, tools = kagent
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    assert "no problem found" in _diagnosis(tools)
    # service-incorrect-port-number
    core.patch_namespaced_service(
        "backend-v1", "default", {"spec": {"ports": [{"port": 8080, "targetPort": 8081}]}}
    )
    out = _diagnosis(tools)
    assert "Service backend-v1 sends port 8080 to targetPort 8081" in out and "its pods listen on 8080" in out
    # serviceaccount-permissions: an init container running `kubectl get pods` as a bare ServiceAccount
    core.create_namespaced_service_account("default", {"metadata": {"name": "restricted-sa"}})
    apps.patch_namespaced_deployment(
        "backend-v2",
        "default",
        {
            "spec": {
                "template": {
                    "spec": {
                        "serviceAccountName": "restricted-sa",
                        "initContainers": [
                            {
                                "name": "backend-init",
                                "image": "bitnami/kubectl",
                                "command": ["sh", "-c", "kubectl get pods"],
                            }
                        ],
                    }
                }
            }
        },
    )
    out = _diagnosis(tools)
    assert (
        "init container backend-init fails: its API calls are forbidden; the app containers never start"
        in out
    )
    assert 'cannot list resource "pods"' in out
    pods = core.list_namespaced_pod("default", label_selector="app=backend,version=v2").items
    assert any(p.status.init_container_statuses for p in pods)


def test_deny_all_network_policy_is_read_statically(kagent: tuple[Any, dict[str, BaseTool]]) -> None:
    api, tools = kagent
    networking = client.NetworkingV1Api(api)
    networking.create_namespaced_network_policy(
        "default", {"metadata": {"name": "deny-all"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    )
    out = _diagnosis(tools)
    assert "traffic to Service neo4j-db-v1 is blocked by NetworkPolicy" in out
    assert "NetworkPolicy deny-all admits no ingress at all" in out
    networking.delete_namespaced_network_policy("deny-all", "default")
    assert "blocked by NetworkPolicy" not in _diagnosis(tools)
