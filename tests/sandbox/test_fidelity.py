"""Fidelity items of issue 17: each test names the apiserver or controller behaviour it copies."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

from sandbox.app import build_cluster
from sandbox.cluster import resource
from sandbox.controllers import autoscaler, workloads
from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL, kubectl
from tests.sandbox.test_write_semantics import _http

pytestmark = pytest.mark.usefixtures("sandbox_only")


def _age_seconds(stamp: Any) -> float:
    return time.time() - stamp.timestamp()


def test_wide_columns(sandbox_cluster: SandboxCluster) -> None:
    """`-o wide` shows the Table columns of priority 1: Deployment CONTAINERS/IMAGES/SELECTOR, Node
    INTERNAL-IP ... CONTAINER-RUNTIME, Pod IP/NODE/NOMINATED NODE/READINESS GATES, as the apiserver prints."""
    http = _http(sandbox_cluster)
    table = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}

    def wide(path: str) -> list[str]:
        columns = http.get(path, headers=table).json()["columnDefinitions"]
        return [c["name"] for c in columns if c["priority"] == 1]

    assert wide("/apis/apps/v1/namespaces/shop/deployments") == ["Containers", "Images", "Selector"]
    assert wide("/api/v1/nodes")[:1] == ["Internal-IP"]
    assert wide("/api/v1/namespaces/shop/pods") == ["IP", "Node", "Nominated Node", "Readiness Gates"]
    row = http.get("/apis/apps/v1/namespaces/shop/deployments/frontend", headers=table).json()["rows"][0][
        "cells"
    ]
    assert row[-2:] == ["ghcr.io/opsgraph-demo/frontend:1.8.0", "app=frontend"]
    node = http.get("/api/v1/nodes/worker-1", headers=table).json()["rows"][0]["cells"]
    assert node[5] == "10.0.0.11"


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_get_wide(sandbox_cluster: SandboxCluster) -> None:
    out = kubectl(sandbox_cluster, "get", "deployments", "-n", "shop", "-o", "wide")
    assert out.stdout.split("\n")[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"], out.stderr


def test_node_leases_and_heartbeats(kube_client: Any) -> None:
    """Each kubelet holds a Lease named after its node in kube-node-lease (40 s, renewed) and its node
    conditions carry a recent lastHeartbeatTime, not the zero time."""
    leases = client.CoordinationV1Api(kube_client).list_namespaced_lease("kube-node-lease").items
    core = client.CoreV1Api(kube_client)
    nodes = core.list_node().items
    assert sorted(lease.spec.holder_identity for lease in leases) == sorted(n.metadata.name for n in nodes)
    assert all(lease.spec.lease_duration_seconds == 40 for lease in leases)
    for node in nodes:
        for condition in node.status.conditions:
            assert _age_seconds(condition.last_heartbeat_time) < 600
            assert condition.last_transition_time <= condition.last_heartbeat_time


def test_a_scenario_has_realistic_ages(kube_client: Any) -> None:
    """Nodes are weeks old, a 12-day-old Deployment's pods are days old, and events are spread over
    their objects' lives instead of sharing one timestamp."""
    core = client.CoreV1Api(kube_client)
    assert all(_age_seconds(n.metadata.creation_timestamp) > 20 * 86400 for n in core.list_node().items)
    frontend = core.list_namespaced_pod("shop", label_selector="app=frontend").items
    assert all(_age_seconds(p.metadata.creation_timestamp) > 10 * 86400 for p in frontend)
    events = core.list_namespaced_event("shop").items
    assert len({e.last_timestamp for e in events}) > 5
    assert (
        min(_age_seconds(e.first_timestamp) for e in events)
        < max(_age_seconds(e.first_timestamp) for e in events) - 86400
    )


def test_http_probe_scheme_is_defaulted(kube_client: Any, sandbox_namespace: str) -> None:
    """The apiserver defaults httpGet.scheme to HTTP (kubectl describe then shows `http-get http://:80/`)."""
    core = client.CoreV1Api(kube_client)
    probe = {"httpGet": {"path": "/", "port": 80}}
    pod = {
        "metadata": {"name": "probed"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "readinessProbe": probe}]},
    }
    created = core.create_namespaced_pod(sandbox_namespace, pod)
    assert created.spec.containers[0].readiness_probe.http_get.scheme == "HTTP"


def test_hpa_scale_down_waits_for_the_stabilisation_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HPA controller scales down only to the highest recommendation of the last 300 s
    (behavior.scaleDown default), reporting ScaleDownStabilized meanwhile."""
    cluster = build_cluster("default")
    deployments, hpas = resource("deployments", "apps"), resource("horizontalpodautoscalers", "autoscaling")
    cluster.patch(
        deployments, "analytics", "analytics", "application/merge-patch+json", {"spec": {"replicas": 6}}
    )
    target = {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
    }
    hpa = {
        "metadata": {"name": "analytics", "namespace": "analytics"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "analytics"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [target],
        },
    }
    cluster.create(hpas, hpa, namespace="analytics")  # analytics uses ~6 % of its CPU request: far below 80 %
    assert cluster.store.get(deployments, "analytics", "analytics")["spec"]["replicas"] == 6
    status = cluster.store.get(hpas, "analytics", "analytics")["status"]
    assert status["conditions"][0]["reason"] == "ScaleDownStabilized"
    now = time.time()
    monkeypatch.setattr(autoscaler, "clock", lambda: now + 301)
    cluster.tick()
    assert cluster.store.get(deployments, "analytics", "analytics")["spec"]["replicas"] == 1


def test_a_failing_job_backs_off_between_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job controller retries a failed pod after 10 s, then 20 s, ... (capped at 6 min), one at a
    time, instead of starting every retry at once."""
    cluster = build_cluster("empty")
    jobs, pods = resource("jobs", "batch"), resource("pods")
    failing = {"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 1"]}
    job = {
        "metadata": {"name": "flaky", "namespace": "default"},
        "spec": {
            "backoffLimit": 3,
            "template": {"spec": {"restartPolicy": "Never", "containers": [failing]}},
        },
    }
    cluster.create(jobs, job, namespace="default")
    owned = [p for p in cluster.store.list(pods, "default") if p["metadata"]["name"].startswith("flaky-")]
    assert len(owned) == 1 and owned[0]["status"]["phase"] == "Failed"
    now = time.time()
    monkeypatch.setattr(workloads, "clock", lambda: now + 11)
    cluster.tick()
    assert (
        len([p for p in cluster.store.list(pods, "default") if p["metadata"]["name"].startswith("flaky-")])
        == 2
    )
    cluster.tick()  # the next retry waits 20 s from the second failure
    assert (
        len([p for p in cluster.store.list(pods, "default") if p["metadata"]["name"].startswith("flaky-")])
        == 2
    )
    monkeypatch.setattr(workloads, "clock", lambda: now + 3600)
    for _ in range(3):
        cluster.tick()
    status = cluster.store.get(jobs, "default", "flaky")["status"]
    assert status["failed"] == 4 and status["conditions"][0]["reason"] == "BackoffLimitExceeded"
