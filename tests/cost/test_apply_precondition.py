"""apply_rightsizing after approval applies exactly the previewed patch, to the workload as previewed:
a workload edited in between is a failed precondition and keeps the other person's edit."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kubernetes import client as k8s

from tools.base import PreconditionFailedError, ToolContext, approved_write, preview_call
from tools.cost import build_tools
from verifiers.approvals import check_audit


def _web(api: Any, namespace: str) -> None:
    container = {"name": "web", "image": "nginx:1.27",
                 "resources": {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}}  # fmt: skip
    k8s.AppsV1Api(api).create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}},
    })  # fmt: skip
    for _ in range(50):  # the sandbox's controllers create and start the pods
        pods = k8s.CoreV1Api(api).list_namespaced_pod(namespace).items
        if len(pods) == 2 and all(p.spec.node_name for p in pods):
            return
        time.sleep(0.1)


def _cpu_request(api: Any, namespace: str) -> str:
    dep = k8s.AppsV1Api(api).read_namespaced_deployment("web", namespace)
    return str(dep.spec.template.spec.containers[0].resources.requests["cpu"])


@pytest.mark.parametrize("edited", [False, True])
def test_the_approved_patch_goes_only_to_the_previewed_workload(
    sandbox_cluster: Any, sandbox_namespace: str, edited: bool
) -> None:
    api = sandbox_cluster.api_client()
    _web(api, sandbox_namespace)
    ctx = ToolContext(kubeconfig=sandbox_cluster.kubeconfig)
    tool = next(t for t in build_tools(ctx) if t.name == "apply_rightsizing")
    args = {"namespace": sandbox_namespace, "workload": "web"}
    preview = preview_call(tool, args)
    assert preview["precondition"]["objects"][0]["resourceVersion"], preview
    if edited:  # someone else sets the request by hand before the approval
        patch = {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "3"}}}]}
                }
            }
        }
        k8s.AppsV1Api(api).patch_namespaced_deployment("web", sandbox_namespace, patch)
        with approved_write(preview["precondition"]), pytest.raises(PreconditionFailedError, match="changed"):
            tool.invoke(args)
        assert _cpu_request(api, sandbox_namespace) == "3"  # their edit stands
        return
    with approved_write(preview["precondition"]) as check:
        out = json.loads(str(tool.invoke(args)))
    assert out["changed"] is True and out["diff"] == preview["diff"]
    assert _cpu_request(api, sandbox_namespace) != "2"
    row = {
        "tool": tool.name, "decision": "approved", "status": "ok", "approval_id": "c1",
        "precondition": preview["precondition"], "observed": check.observed,
    }  # fmt: skip
    assert check_audit([row]) == []
