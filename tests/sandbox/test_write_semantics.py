"""Write semantics that must not hide problems (issue 13.6): dryRun values, fieldValidation, impersonation,
finalizers and Terminating namespaces. Each test names the apiserver behaviour it copies."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]
from kubernetes import client

from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL, kubectl

pytestmark = pytest.mark.usefixtures("sandbox_only")


def _http(cluster: SandboxCluster, user: str = "admin") -> httpx.Client:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    token = next(u["user"]["token"] for u in config["users"] if u["name"].endswith(f"-{user}"))
    return httpx.Client(base_url=cluster.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _deployment(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
            **spec,
        },
    }


def test_dry_run_values_other_than_all_are_refused(
    sandbox_cluster: SandboxCluster, sandbox_namespace: str
) -> None:
    """`dryRun=true` is a 422 (`Unsupported value: []string{"true"}: supported values: "All"`), and nothing is written."""
    http = _http(sandbox_cluster)
    url = f"/api/v1/namespaces/{sandbox_namespace}/configmaps"
    refused = http.post(url, params={"dryRun": "true"}, json={"metadata": {"name": "x"}})
    assert refused.status_code == 422
    status = refused.json()
    assert status["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"true"}: supported values: "All"'
    )
    assert status["details"]["causes"][0]["field"] == "dryRun"
    assert http.get(f"{url}/x").status_code == 404
    assert http.post(url, params={"dryRun": "All"}, json={"metadata": {"name": "x"}}).status_code == 201
    assert http.get(f"{url}/x").status_code == 404


def test_field_validation_strict_warn_and_ignore(
    sandbox_cluster: SandboxCluster, sandbox_namespace: str
) -> None:
    """Strict: 400 `strict decoding error: unknown field ...`; Warn (the default): a `Warning` header per
    unknown field, which is dropped, not stored; Ignore: dropped silently."""
    http = _http(sandbox_cluster)
    url = f"/apis/apps/v1/namespaces/{sandbox_namespace}/deployments"
    strict = http.post(url, params={"fieldValidation": "Strict"}, json=_deployment("strict", replicass=3))
    assert strict.status_code == 400
    assert strict.json()["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.replicass"'
    )
    warned = http.post(url, json=_deployment("warned", replicass=3))
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"spec.replicass\\""'
    assert "replicass" not in json.dumps(http.get(f"{url}/warned").json())
    ignored = http.post(url, params={"fieldValidation": "Ignore"}, json=_deployment("ignored", replicass=3))
    assert ignored.status_code == 201 and "Warning" not in ignored.headers
    assert "replicass" not in ignored.text
    patched = http.patch(
        f"{url}/warned",
        params={"fieldValidation": "Strict"},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
        content=json.dumps({"spec": {"template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}}}}),
    )
    assert patched.status_code == 400
    assert (
        patched.json()["message"]
        == 'strict decoding error: unknown field "spec.template.spec.containers[0].imagee"'
    )


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_impersonation_uses_only_the_given_groups(sandbox_cluster: SandboxCluster) -> None:
    """`--as=developer` without `--as-group` has no groups but system:authenticated (the apiserver does
    not look the user up), so the developers' RoleBinding does not apply."""
    alone = kubectl(sandbox_cluster, "auth", "can-i", "patch", "deployments", "-n", "shop", "--as=developer")
    grouped = kubectl(
        sandbox_cluster,
        "auth",
        "can-i",
        "patch",
        "deployments",
        "-n",
        "shop",
        "--as=developer",
        "--as-group=developers",
    )
    assert (alone.stdout.strip(), grouped.stdout.strip()) == ("no", "yes")
    who = kubectl(sandbox_cluster, "auth", "whoami", "--as=developer", "-o", "json")
    assert json.loads(who.stdout)["status"]["userInfo"] == {
        "username": "developer",
        "groups": ["system:authenticated"],
    }


def test_finalizers_hold_deletion(kube_client: Any, sandbox_namespace: str) -> None:
    """DELETE of an object with finalizers sets deletionTimestamp and keeps it; removing the last
    finalizer deletes it."""
    core = client.CoreV1Api(kube_client)
    body = {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    core.create_namespaced_config_map(sandbox_namespace, body)
    core.delete_namespaced_config_map("held", sandbox_namespace)
    held = core.read_namespaced_config_map("held", sandbox_namespace)
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", sandbox_namespace, {"metadata": {"finalizers": None}})
    assert "held" not in [c.metadata.name for c in core.list_namespaced_config_map(sandbox_namespace).items]


def test_namespace_is_terminating_until_its_content_is_gone(kube_client: Any) -> None:
    """A deleted Namespace is Terminating, with NamespaceFinalizersRemaining while a finalizer holds its
    content; it goes once the content does."""
    core = client.CoreV1Api(kube_client)
    core.create_namespace({"metadata": {"name": "finalizing"}})
    core.create_namespaced_config_map(
        "finalizing", {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    )
    core.delete_namespace("finalizing")
    time.sleep(1.5)  # longer than an empty namespace would take to go
    ns = core.read_namespace("finalizing")
    conditions = {c.type: c for c in ns.status.conditions}
    assert ns.status.phase == "Terminating"
    assert conditions["NamespaceFinalizersRemaining"].status == "True"
    assert "example.com/hold in 1 resource instances" in conditions["NamespaceFinalizersRemaining"].message
    core.patch_namespaced_config_map("held", "finalizing", {"metadata": {"finalizers": None}})
    deadline = time.monotonic() + 10
    while any(n.metadata.name == "finalizing" for n in core.list_namespace().items):
        assert time.monotonic() < deadline
        time.sleep(0.1)
