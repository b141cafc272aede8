"""An approval is bound to its preview. Preview `cart` 1 -> 3; someone scales it to 10 with kubectl; the
approval then writes nothing and asks again with a fresh preview (10 -> 3). The audit says so, and the
independent checker (`verifiers.approvals`) confirms the object written is the one previewed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from opsgraph.settings import Settings
from sandbox.testing import SandboxCluster
from tools.base import ToolContext
from tools.kubernetes.preconditions import Expectation, fingerprint
from verifiers.approvals import check_audit

KUBECTL = shutil.which("kubectl")


def _cart(kube_client: Any, namespace: str) -> None:
    labels = {"app": "cart"}
    client.AppsV1Api(kube_client).create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "cart"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "cart", "image": "nginx:1.27"}]},
                },
            },
        },
    )


def _runtime(sandbox_cluster: SandboxCluster, tmp_path: Path) -> Runtime:
    settings = Settings(model="offline", checkpoint_url=f"sqlite:///{tmp_path / 'c.sqlite'}")
    return Runtime(settings, tool_context=ToolContext(kubeconfig=sandbox_cluster.kubeconfig))


@pytest.mark.skipif(KUBECTL is None, reason="needs kubectl (.ci/run installs it)")
def test_a_change_made_with_kubectl_after_the_preview_is_asked_again(
    sandbox_cluster: SandboxCluster, kube_client: Any, sandbox_namespace: str, tmp_path: Path
) -> None:
    ns, apps = sandbox_namespace, client.AppsV1Api(kube_client)
    _cart(kube_client, ns)
    with _runtime(sandbox_cluster, tmp_path) as runtime:
        first = runtime.run(f"scale deploy cart to 3 in {ns}", thread_id="cart")
        assert (
            first.approval is not None and "-  replicas: 1\n+  replicas: 3" in first.approval.preview["diff"]
        )
        subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(sandbox_cluster.kubeconfig), "-n", ns, "scale", "deployment/cart",
             "--replicas=10"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        again = runtime.resume("cart", ApprovalDecision(decision="approve", user="olga"))
        assert apps.read_namespaced_deployment("cart", ns).spec.replicas == 10  # nothing was written
        assert again.status == "interrupted" and again.approval is not None
        assert again.approval.id != first.approval.id
        assert "changed since the preview" in (again.approval.reason or "")
        assert "-  replicas: 10\n+  replicas: 3" in again.approval.preview["diff"]  # a fresh preview
        done = runtime.resume("cart", ApprovalDecision(decision="approve", user="olga"))
        assert done.status == "done"
        audit = runtime.audit("cart")
    assert apps.read_namespaced_deployment("cart", ns).spec.replicas == 3
    assert [(e.status, e.approval_id) for e in audit] == [
        ("conflict", first.approval.id),
        ("ok", again.approval.id),
    ]
    [written] = audit[1].observed["objects"]  # type: ignore[index]
    previewed = again.approval.preview["precondition"]["objects"][0]
    assert written["resourceVersion"] == previewed["resourceVersion"] != written["written_resourceVersion"]
    assert check_audit([e.model_dump() for e in audit]) == []


def test_the_checker_catches_a_write_made_against_another_state() -> None:
    """The independent checker can fail: a forged row whose write found another object, or ran twice."""
    objects = [
        {
            "kind": "Deployment",
            "namespace": "shop",
            "name": "cart",
            "resourceVersion": "7",
            "fingerprint": "a",
        }
    ]
    seen = {"previewed_resourceVersion": "7", "written_resourceVersion": "12"}
    ok = {
        "id": 1, "tool": "scale_deployment", "decision": "approved", "status": "ok", "approval_id": "x",
        "precondition": {"objects": objects},
        "observed": {"objects": [{**objects[0], **seen}]},
    }  # fmt: skip
    assert check_audit([ok]) == []
    moved = {
        **ok,
        "observed": {"objects": [{**objects[0], **seen, "resourceVersion": "9", "fingerprint": "b"}]},
    }
    assert "not the previewed 7" in check_audit([moved])[0]
    status_only = {**ok, "observed": {"objects": [{**objects[0], **seen, "resourceVersion": "9"}]}}
    assert check_audit([status_only]) == []  # same fingerprint: only the status moved
    assert check_audit([ok, {**ok, "id": 2}]) == ["approval x was executed 2 times"]
    assert "without naming its approval" in check_audit([{**ok, "approval_id": None}])[0]


def test_a_status_only_change_keeps_the_approval_and_writes_at_the_new_version() -> None:
    before = {"metadata": {"name": "cart", "resourceVersion": "7"}, "spec": {"replicas": 1}, "status": {}}
    moved = {**before, "metadata": {"name": "cart", "resourceVersion": "8"}, "status": {"readyReplicas": 1}}
    scaled = {**moved, "spec": {"replicas": 10}}
    precondition = {
        "objects": [
            {"kind": "Deployment", "namespace": "shop", "name": "cart", "resourceVersion": "7",
             "fingerprint": fingerprint(before)}
        ]
    }  # fmt: skip
    assert Expectation(precondition).check("Deployment", "shop", "cart", moved) == "8"
    with pytest.raises(Exception, match=r"changed since the preview \(resourceVersion 7 -> 8\)"):
        Expectation(precondition).check("Deployment", "shop", "cart", scaled)
    with pytest.raises(Exception, match="deleted since the preview"):
        Expectation(precondition).check("Deployment", "shop", "cart", None)
    assert Expectation(None).check("Deployment", "shop", "cart", scaled) is None  # no approval: no check
