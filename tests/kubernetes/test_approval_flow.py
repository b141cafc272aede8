"""The whole assistant on the sandbox: a scale request stops at the gate with a server dry-run diff;
rejecting changes nothing, approving applies it."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from opsgraph.settings import Settings
from sandbox.testing import SandboxCluster
from tools.base import ToolContext


@pytest.mark.parametrize("decision", ["reject", "approve"])
def test_scale_stops_at_the_gate_then_follows_the_decision(
    sandbox_cluster: SandboxCluster, kube_client: Any, web: str, decision: str
) -> None:
    apps = client.AppsV1Api(kube_client)
    ns = web
    settings = Settings(model="offline", checkpoint_url="memory")
    with Runtime(settings, tool_context=ToolContext(kubeconfig=sandbox_cluster.kubeconfig)) as runtime:
        paused = runtime.run(f"scale deploy web to 5 in {ns}", thread_id=f"scale-{decision}")
        assert paused.status == "interrupted" and paused.approval is not None
        assert paused.approval.tool == "scale_deployment"
        assert "-  replicas: 2\n+  replicas: 5" in paused.approval.preview["diff"]
        assert apps.read_namespaced_deployment("web", ns).spec.replicas == 2  # the preview changed nothing
        done = runtime.resume(paused.thread_id, ApprovalDecision(decision=decision))  # type: ignore[arg-type]
    assert done.status == "done"
    replicas = apps.read_namespaced_deployment("web", ns).status.ready_replicas
    assert replicas == (5 if decision == "approve" else 2)
