"""Write tools: a preview (server dry run + diff) changes nothing; approving applies; rejecting leaves it as it was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from langchain_core.tools import BaseTool

from sandbox.testing import SandboxCluster
from tests.kubernetes.conftest import invoke
from tools.base import ToolContext, is_mutating, preview_call
from tools.kubernetes import build_tools

WRITES = {
    "scale_deployment",
    "rollout_restart",
    "set_image",
    "set_env",
    "set_resources",
    "rollback_deployment",
    "patch_resource",
    "apply_manifest",
    "delete_resource",
    "cordon_node",
    "uncordon_node",
    "drain_node",
    "exec_in_pod",
}


def _deployment(kube_client: Any, ns: str) -> Any:
    return client.AppsV1Api(kube_client).read_namespaced_deployment("web", ns)


def test_exactly_the_writes_are_mutating(kube_tools: dict[str, BaseTool]) -> None:
    assert {name for name, tool in kube_tools.items() if is_mutating(tool)} == WRITES
    assert {"list_pods", "diagnose_pod", "scale_deployment"} <= set(kube_tools)
    assert set(kube_tools["scale_deployment"].args) == {"name", "replicas", "namespace"}
    assert set(kube_tools["diagnose_pod"].args) == {"name", "namespace"}
    assert set(kube_tools["list_pods"].args) == {"namespace"}


@pytest.mark.parametrize(
    ("tool", "args", "changed"),
    [
        ("scale_deployment", {"name": "web", "replicas": 4}, lambda d: d.spec.replicas == 4),
        (
            "set_image",
            {"name": "web", "image": "nginx:1.28"},
            lambda d: d.spec.template.spec.containers[0].image == "nginx:1.28",
        ),
        (
            "set_env",
            {"name": "web", "env_name": "MODE", "value": "fast"},
            lambda d: [e.value for e in d.spec.template.spec.containers[0].env or []] == ["fast"],
        ),
        (
            "set_resources",
            {"name": "web", "memory_limit": "512Mi"},
            lambda d: (d.spec.template.spec.containers[0].resources.limits or {}) == {"memory": "512Mi"},
        ),
        (
            "rollout_restart",
            {"name": "web"},
            lambda d: "kubectl.kubernetes.io/restartedAt" in (d.spec.template.metadata.annotations or {}),
        ),
        (
            "patch_resource",
            {"kind": "deployment", "name": "web", "patch": '{"metadata": {"labels": {"tier": "front"}}}'},
            lambda d: d.metadata.labels == {"tier": "front"},
        ),
    ],
)
def test_preview_then_approve_or_reject(
    kube_tools: dict[str, BaseTool], kube_client: Any, web: str, tool: str, args: dict[str, Any], changed: Any
) -> None:
    args = {**args, "namespace": web}
    before = _deployment(kube_client, web)
    preview = preview_call(kube_tools[tool], args)
    assert "error" not in preview and preview["dry_run"].startswith("server-side dryRun=All")
    assert "+" in preview["diff"] and "(after)" in preview["diff"]
    rejected = _deployment(kube_client, web)  # a preview (and a rejection) changes nothing
    assert rejected.metadata.resource_version == before.metadata.resource_version and not changed(rejected)
    out = invoke(kube_tools[tool], **args)
    assert out.startswith("done:"), out
    assert changed(_deployment(kube_client, web))


def test_rollback_returns_to_the_previous_template(
    kube_tools: dict[str, BaseTool], kube_client: Any, web: str
) -> None:
    invoke(kube_tools["set_image"], name="web", image="nginx:1.28", namespace=web)
    preview = preview_call(kube_tools["rollback_deployment"], {"name": "web", "namespace": web})
    assert "-      - image: nginx:1.28" in preview["diff"] and "+      - image: nginx:1.27" in preview["diff"]
    assert invoke(kube_tools["rollback_deployment"], name="web", namespace=web).startswith("done:")
    assert _deployment(kube_client, web).spec.template.spec.containers[0].image == "nginx:1.27"


def test_apply_manifest_creates_then_updates(
    kube_tools: dict[str, BaseTool], kube_client: Any, sandbox_namespace: str
) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  beta: 'off'\n"
    preview = preview_call(
        kube_tools["apply_manifest"], {"manifest": manifest, "namespace": sandbox_namespace}
    )
    assert "ConfigMap" in preview["summary"] and "created" in preview["summary"]
    core = client.CoreV1Api(kube_client)
    assert (
        core.list_namespaced_config_map(sandbox_namespace, field_selector="metadata.name=flags").items == []
    )
    invoke(kube_tools["apply_manifest"], manifest=manifest, namespace=sandbox_namespace)
    invoke(
        kube_tools["apply_manifest"], manifest=manifest.replace("'off'", "'on'"), namespace=sandbox_namespace
    )
    assert core.read_namespaced_config_map("flags", sandbox_namespace).data == {"beta": "on"}


def test_delete_preview_keeps_the_object(kube_tools: dict[str, BaseTool], kube_client: Any, web: str) -> None:
    preview = preview_call(
        kube_tools["delete_resource"], {"kind": "deployment", "name": "web", "namespace": web}
    )
    assert "deleted" in preview["summary"] and "-kind: Deployment" in preview["diff"]
    assert _deployment(kube_client, web).metadata.name == "web"
    invoke(kube_tools["delete_resource"], kind="deployment", name="web", namespace=web)
    assert client.AppsV1Api(kube_client).list_namespaced_deployment(web).items == []


def test_bad_input_names_the_field(kube_tools: dict[str, BaseTool], web: str) -> None:
    out = invoke(kube_tools["set_image"], name="web", image="nginx:1.28", container="sidecar", namespace=web)
    assert (
        out.startswith("error:")
        and "container 'sidecar' not in spec.template.spec.containers (it has: web)" in out
    )
    assert "not found" in invoke(kube_tools["scale_deployment"], name="ghost", replicas=1, namespace=web)


def test_read_only_and_protected_namespaces_refuse_writes(
    sandbox_cluster: SandboxCluster, kube_client: Any, web: str
) -> None:
    readonly = {
        t.name: t for t in build_tools(ToolContext(kubeconfig=sandbox_cluster.kubeconfig, read_only=True))
    }
    out = invoke(readonly["scale_deployment"], name="web", replicas=5, namespace=web)
    assert "read-only mode" in out and _deployment(kube_client, web).spec.replicas == 2
    normal = {t.name: t for t in build_tools(ToolContext(kubeconfig=sandbox_cluster.kubeconfig))}
    out = invoke(normal["delete_resource"], kind="service", name="kube-dns", namespace="kube-system")
    assert "namespace 'kube-system' is protected" in out
    assert "protected" in json.dumps(
        preview_call(
            normal["patch_resource"],
            {"kind": "configmap", "name": "x", "namespace": "kube-system", "patch": "{}"},
        )
    )


def test_cordon_and_drain_preview_lists_evictions(
    kube_tools: dict[str, BaseTool], kube_client: Any, seeded: None
) -> None:
    preview = preview_call(kube_tools["drain_node"], {"name": "worker-2"})
    assert "Node worker-2 changed" in preview["summary"] and "Pod " in preview["summary"]
    assert "+  unschedulable: true" in preview["diff"]
    node = client.CoreV1Api(kube_client).read_node("worker-2")
    assert not node.spec.unschedulable
    invoke(kube_tools["cordon_node"], name="worker-2")
    assert client.CoreV1Api(kube_client).read_node("worker-2").spec.unschedulable
    invoke(kube_tools["uncordon_node"], name="worker-2")
    assert not client.CoreV1Api(kube_client).read_node("worker-2").spec.unschedulable
