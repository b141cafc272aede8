"""k8s-ai-bench core tasks on the sandbox: each setup shows its fault, its grader fails until the fix is made
and passes once it is (fixes made here with the official client, as an agent's tools would)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from eval.datasets import load_k8s_tasks
from eval.k8s_core_tasks import CORE_TASKS, NOT_GRADED, grade_core, setup_core
from sandbox.process import SandboxProcess


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    with SandboxProcess(scenario="empty") as proc:
        api = config.new_client_from_config(str(proc.kubeconfig))
        tasks = {t.id: t.model_dump() for t in load_k8s_tasks()}
        for task_id in CORE_TASKS:
            setup_core(api, tasks[task_id])
        yield api
        api.close()


def test_every_core_task_is_graded_or_says_why_not() -> None:
    core = {t.id for t in load_k8s_tasks() if t.suite == "core"}
    elsewhere = {
        "create-network-policy",
        "create-simple-rbac",
        "fix-rbac-wrong-resource",
        "list-images-for-pods",
    }
    assert len(core) == 25 and core == set(CORE_TASKS) | set(NOT_GRADED) | elsewhere
    assert not set(CORE_TASKS) & (set(NOT_GRADED) | elsewhere)


def test_unsolved_tasks_fail_their_checks(api: Any) -> None:
    for task_id in CORE_TASKS:
        assert grade_core(api, task_id), task_id


def _fix(api: Any, task_id: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    if task_id == "scale-deployment":
        apps.patch_namespaced_deployment_scale("web-app", "scale-test", {"spec": {"replicas": 2}})
    elif task_id == "fix-image-pull":
        apps.patch_namespaced_deployment(
            "app",
            "debug",
            {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}},
        )
    elif task_id == "fix-service-routing":
        core.patch_namespaced_service("nginx", "web", {"spec": {"selector": {"app": "nginx"}}})
    elif task_id == "deployment-traffic-switch":
        core.patch_namespaced_service(
            "checkout-service", "e-commerce", {"spec": {"selector": {"version": "green"}}}
        )
    elif task_id == "fix-probes":
        probe = {"httpGet": {"path": "/healthz", "port": 8080}}
        container = {"name": "webapp", "livenessProbe": probe, "readinessProbe": probe}
        apps.patch_namespaced_deployment(
            "webapp", "orders", {"spec": {"template": {"spec": {"containers": [container]}}}}
        )
    elif task_id == "create-pod-mount-configmaps":
        ns = "color-size-settings"
        core.create_namespace({"metadata": {"name": ns}})
        core.create_namespaced_config_map(
            ns, {"metadata": {"name": "color-settings"}, "data": {"color": "blue"}}
        )
        core.create_namespaced_config_map(
            ns, {"metadata": {"name": "size-settings"}, "data": {"size": "medium"}}
        )
        env = [
            {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "color-settings", "key": "color"}}}
        ]
        pod = {
            "metadata": {"name": "pod1"},
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx:alpine",
                        "env": env,
                        "volumeMounts": [{"name": "sizes", "mountPath": "/etc/sizes"}],
                    }
                ],
                "volumes": [{"name": "sizes", "configMap": {"name": "size-settings"}}],
            },
        }
        core.create_namespaced_pod(ns, pod)


@pytest.mark.parametrize(
    "task_id",
    [
        "scale-deployment",
        "fix-image-pull",
        "fix-service-routing",
        "deployment-traffic-switch",
        "fix-probes",
        "create-pod-mount-configmaps",
    ],
)
def test_a_fixed_task_passes(api: Any, task_id: str) -> None:
    _fix(api, task_id)
    assert grade_core(api, task_id) == []


def test_a_wrong_fix_still_fails(api: Any) -> None:
    client.AppsV1Api(api).patch_namespaced_deployment_scale(
        "web-service", "scale-down-test", {"spec": {"replicas": 0}}
    )
    assert grade_core(api, "scale-down-deployment") == [
        "deployment web-service: 0 available replicas, wanted 1"
    ]
