"""The official Python client against the sandbox: CRUD, dry run, conflicts, errors, selectors, patches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException


def _deployment(name: str, image: str = "nginx:1.27", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]},
            },
        },
    }


def test_create_get_list_patch_scale_delete(kube_client: Any, sandbox_namespace: str) -> None:
    apps = client.AppsV1Api(kube_client)
    core = client.CoreV1Api(kube_client)
    created = apps.create_namespaced_deployment(sandbox_namespace, _deployment("web"))
    assert created.metadata.uid and created.metadata.generation == 1
    assert created.metadata.creation_timestamp is not None
    got = apps.read_namespaced_deployment("web", sandbox_namespace)
    assert got.status.ready_replicas == 2 and got.spec.strategy.type == "RollingUpdate"
    pods = core.list_namespaced_pod(sandbox_namespace, label_selector="app=web").items
    assert len(pods) == 2 and all(p.status.phase == "Running" for p in pods)
    assert all(p.metadata.owner_references[0].kind == "ReplicaSet" for p in pods)
    patched = apps.patch_namespaced_deployment(
        "web",
        sandbox_namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
    )
    assert patched.spec.template.spec.containers[0].image == "nginx:1.28"
    assert (
        patched.spec.template.spec.containers[0].ports[0].container_port == 80
    )  # merged by name, not replaced
    assert patched.metadata.generation == 2
    scale = apps.patch_namespaced_deployment_scale("web", sandbox_namespace, {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4
    pods = core.list_namespaced_pod(sandbox_namespace, label_selector="app=web").items
    assert len(pods) == 4 and {p.spec.containers[0].image for p in pods} == {"nginx:1.28"}
    assert (
        len(apps.list_namespaced_replica_set(sandbox_namespace).items) == 2
    )  # old one kept at 0 for rollback
    apps.delete_namespaced_deployment("web", sandbox_namespace)
    assert core.list_namespaced_pod(sandbox_namespace).items == []  # garbage-collected via owner references
    assert apps.list_namespaced_replica_set(sandbox_namespace).items == []


def test_dry_run_validates_without_storing(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    body = {"metadata": {"name": "cfg"}, "data": {"a": "1"}}
    preview = core.create_namespaced_config_map(sandbox_namespace, body, dry_run="All")
    assert preview.data == {"a": "1"}
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("cfg", sandbox_namespace)
    assert missing.value.status == 404
    core.create_namespaced_config_map(sandbox_namespace, body)
    changed = core.patch_namespaced_config_map("cfg", sandbox_namespace, {"data": {"a": "2"}}, dry_run="All")
    assert changed.data == {"a": "2"}
    assert core.read_namespaced_config_map("cfg", sandbox_namespace).data == {"a": "1"}
    with pytest.raises(ApiException) as bad:
        core.create_namespaced_config_map(
            sandbox_namespace, {"metadata": {"name": "Bad_Name"}}, dry_run="All"
        )
    assert bad.value.status == 422


def test_stale_resource_version_conflicts(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    first = core.create_namespaced_config_map(
        sandbox_namespace, {"metadata": {"name": "c"}, "data": {"k": "v1"}}
    )
    first.data = {"k": "v2"}
    second = core.replace_namespaced_config_map("c", sandbox_namespace, first)
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    first.data = {"k": "v3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("c", sandbox_namespace, first)
    status = json.loads(err.value.body)
    assert err.value.status == 409 and status["reason"] == "Conflict" and status["kind"] == "Status"
    assert "the object has been modified" in status["message"]


def test_invalid_object_gets_422_with_field_causes(kube_client: Any, sandbox_namespace: str) -> None:
    apps = client.AppsV1Api(kube_client)
    body = _deployment("bad", replicas=-1)
    body["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    with pytest.raises(ApiException) as err:
        apps.create_namespaced_deployment(sandbox_namespace, body)
    status = json.loads(err.value.body)
    assert err.value.status == 422 and status["reason"] == "Invalid"
    fields = {c["field"] for c in status["details"]["causes"]}
    assert fields == {"spec.replicas", "spec.template.spec.containers[0].image"}


def test_not_found_and_already_exists(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("ghost", sandbox_namespace)
    assert err.value.status == 404 and json.loads(err.value.body)["message"] == 'pods "ghost" not found'
    core.create_namespaced_service_account(sandbox_namespace, {"metadata": {"name": "bot"}})
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_service_account(sandbox_namespace, {"metadata": {"name": "bot"}})
    assert dup.value.status == 409 and json.loads(dup.value.body)["reason"] == "AlreadyExists"


def test_label_and_field_selectors(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    for name, tier in (("a", "web"), ("b", "db"), ("c", "web")):
        core.create_namespaced_config_map(
            sandbox_namespace, {"metadata": {"name": name, "labels": {"tier": tier}}}
        )
    names = lambda items: sorted(i.metadata.name for i in items)  # noqa: E731
    assert names(core.list_namespaced_config_map(sandbox_namespace, label_selector="tier=web").items) == [
        "a",
        "c",
    ]
    assert names(
        core.list_namespaced_config_map(sandbox_namespace, label_selector="tier in (db),tier!=web").items
    ) == ["b"]
    assert names(
        core.list_namespaced_config_map(
            sandbox_namespace, field_selector="metadata.name!=a", label_selector="tier"
        ).items
    ) == ["b", "c"]
    running = core.list_pod_for_all_namespaces(field_selector="status.phase=Running").items
    assert running and all(p.status.phase == "Running" for p in running)


def test_json_patch_and_merge_patch(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_config_map(
        sandbox_namespace, {"metadata": {"name": "p"}, "data": {"a": "1", "b": "2"}}
    )
    out = core.patch_namespaced_config_map(
        "p", sandbox_namespace, [{"op": "replace", "path": "/data/a", "value": "9"}]
    )
    assert out.data == {"a": "9", "b": "2"}
    out = core.patch_namespaced_config_map(
        "p", sandbox_namespace, {"data": {"b": None}}, _content_type="application/merge-patch+json"
    )
    assert out.data == {"a": "9"}


def test_pagination_with_limit_and_continue(kube_client: Any) -> None:
    core = client.CoreV1Api(kube_client)
    first = core.list_pod_for_all_namespaces(limit=5)
    assert len(first.items) == 5 and first.metadata._continue
    rest = core.list_pod_for_all_namespaces(limit=1000, _continue=first.metadata._continue)
    everything = core.list_pod_for_all_namespaces()
    assert [p.metadata.uid for p in first.items + rest.items] == [p.metadata.uid for p in everything.items]
