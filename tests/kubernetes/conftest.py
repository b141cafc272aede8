"""Kubernetes tool tests run against the session's sandbox (or OPSGRAPH_TEST_KUBECONFIG's cluster)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from langchain_core.tools import BaseTool

from sandbox.testing import SandboxCluster
from tools.base import ToolContext
from tools.kubernetes import build_tools


@pytest.fixture
def kube_tools(sandbox_cluster: SandboxCluster) -> dict[str, BaseTool]:
    return {t.name: t for t in build_tools(ToolContext(kubeconfig=sandbox_cluster.kubeconfig))}


@pytest.fixture
def web(kube_client: Any, sandbox_namespace: str) -> str:
    """A Deployment `web` (2 replicas of nginx:1.27) in a fresh namespace; returns the namespace."""
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }
    client.AppsV1Api(kube_client).create_namespaced_deployment(sandbox_namespace, body)
    return sandbox_namespace


@pytest.fixture
def seeded(sandbox_cluster: SandboxCluster) -> None:
    """Tests of the demo shop's seeded faults need the sandbox, not a real cluster."""
    if sandbox_cluster.real:
        pytest.skip("needs the sandbox's demo-shop scenario")


def pod_named(tools: dict[str, BaseTool], namespace: str, prefix: str, status: str = "") -> str:
    lines = str(tools["list_pods"].invoke({"namespace": namespace})).splitlines()[1:]
    for line in lines:
        cells = line.split()
        if cells[0].startswith(prefix) and (not status or cells[2] == status):
            return cells[0]
    raise AssertionError(f"no pod {prefix}* with status {status or 'any'} in {namespace}: {lines}")


def invoke(tool: BaseTool, **args: Any) -> str:
    return str(tool.invoke(args))
