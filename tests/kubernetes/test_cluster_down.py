"""The cluster goes away between the preview and the approval: the approved scale is a failure in the
audit, the run's status and its final event, never `ok`."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from agents.events import FinalEvent
from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from opsgraph.settings import Settings
from sandbox.process import SandboxProcess
from tools.base import ToolContext


def test_an_approved_scale_against_a_cluster_that_is_down_is_audited_error(tmp_path: Path) -> None:
    with SandboxProcess(scenario="empty", kubeconfig=tmp_path / "kubeconfig") as sandbox:
        api = client.AppsV1Api(_client(sandbox.kubeconfig))
        api.create_namespaced_deployment(
            "default",
            {
                "metadata": {"name": "cart"},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "cart"}},
                    "template": {
                        "metadata": {"labels": {"app": "cart"}},
                        "spec": {"containers": [{"name": "cart", "image": "nginx:1.27"}]},
                    },
                },
            },
        )
        api.api_client.close()
        runtime = Runtime(
            Settings(checkpoint_url=f"sqlite:///{tmp_path / 'c.sqlite'}"),
            tool_context=ToolContext(kubeconfig=sandbox.kubeconfig),
        )
        paused = runtime.run("scale deploy cart to 3 in default", thread_id="down")
        assert paused.status == "interrupted" and paused.approval is not None
        assert "replicas: 3" in paused.approval.preview["diff"]
    # the sandbox process has stopped: nothing answers on its port any more
    with runtime:
        events = list(runtime.stream_resume("down", ApprovalDecision(decision="approve", user="olga")))
        result = runtime.result("down")
        [entry] = runtime.audit("down")
    final = events[-1]
    assert isinstance(final, FinalEvent) and final.status == "error"
    assert result.status == "error" and (result.error or "").startswith("scale_deployment: ")
    assert (entry.decision, entry.status, entry.approver) == ("approved", "error", "olga")
    assert "refused" in entry.result.lower() or "connect" in entry.result.lower(), entry.result


def _client(kubeconfig: Path) -> client.ApiClient:
    from kubernetes import config

    return config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call,no-any-return]
