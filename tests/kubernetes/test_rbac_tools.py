"""RBAC questions through access reviews, and least-privilege Role synthesis that fixes a real fault."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from langchain_core.tools import BaseTool

from tests.kubernetes.conftest import invoke
from verifiers.kubernetes import ApiCall, check_role, least_privilege_rules, parse_call


def test_parse_call_and_least_privilege() -> None:
    assert parse_call("get deployments") == ApiCall("get", "deployments", "apps")
    assert parse_call("create pods/exec") == ApiCall("create", "pods", "", "exec")
    with pytest.raises(ValueError, match="unknown verb 'fly'"):
        parse_call("fly pods")
    calls = [parse_call("list configmaps"), parse_call("watch configmaps"), parse_call("get secrets app-db")]
    rules = least_privilege_rules(calls)
    assert check_role(rules, calls).ok
    broad = [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["*"]}]
    check = check_role(broad, calls)
    assert not check.ok and "delete configmaps" in check.excess


@pytest.mark.usefixtures("sandbox_only")
def test_role_synthesis_verified_then_applied_fixes_the_app(
    kube_tools: dict[str, BaseTool], kube_client: Any, sandbox_namespace: str
) -> None:
    core, apps = client.CoreV1Api(kube_client), client.AppsV1Api(kube_client)
    ns = sandbox_namespace
    core.create_namespaced_service_account(ns, {"metadata": {"name": "sync"}})
    apps.create_namespaced_deployment(
        ns,
        {
            "metadata": {"name": "sync"},
            "spec": {
                "selector": {"matchLabels": {"app": "sync"}},
                "template": {
                    "metadata": {"labels": {"app": "sync"}},
                    "spec": {
                        "serviceAccountName": "sync",
                        "containers": [
                            {"name": "sync", "image": "ghcr.io/opsgraph-demo/inventory-sync:1.0.4"}
                        ],
                    },
                },
            },
        },
    )
    assert apps.read_namespaced_deployment("sync", ns).status.ready_replicas is None
    out = invoke(
        kube_tools["synthesize_role"],
        service_account="sync",
        namespace=ns,
        calls=["list configmaps", "watch configmaps"],
    )
    assert "(verified by the local RBAC checker" in out and "list configmaps: denied today" in out
    assert "Role: accepted by the server (dryRun=All)" in out
    manifest = out.split("then confirm with can_i:\n", 1)[1]
    assert invoke(kube_tools["apply_manifest"], manifest=manifest, namespace=ns).startswith("done:")
    user = f"system:serviceaccount:{ns}:sync"
    assert invoke(
        kube_tools["can_i"], verb="watch", resource="configmaps", namespace=ns, user=user
    ).startswith("yes")
    assert invoke(
        kube_tools["can_i"], verb="delete", resource="configmaps", namespace=ns, user=user
    ).startswith("no")
    assert apps.read_namespaced_deployment("sync", ns).status.ready_replicas == 1  # the app now starts


@pytest.mark.usefixtures("sandbox_only")
def test_list_contexts_marks_the_one_in_use(kube_tools: dict[str, BaseTool]) -> None:
    out = str(kube_tools["list_contexts"].invoke({}))
    lines = out.splitlines()
    assert any(line.startswith("* sandbox:") for line in lines)
    assert any(line.startswith("  sandbox-intern:") for line in lines) and len(lines) == 4
