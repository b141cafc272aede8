"""The sandbox's metrics API and Prometheus HTTP API, over the seeded demo shop."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from kubernetes import client

from sandbox.testing import SandboxCluster


@pytest.fixture
def prometheus(sandbox_cluster: SandboxCluster) -> str:
    if sandbox_cluster.real:
        pytest.skip("the sandbox's own Prometheus API")
    return sandbox_cluster.url


def test_query_range_serves_days_of_cpu_history_for_krr_queries(prometheus: str) -> None:
    now = time.time()
    query = (
        'max(rate(container_cpu_usage_seconds_total{namespace="analytics", pod=~"analytics-.*", '
        'container="analytics"}[300s])) by (container, pod, job)'
    )
    body = httpx.post(
        f"{prometheus}/api/v1/query_range",
        data={"query": query, "start": now - 7 * 86400, "end": now, "step": "3600s"},
    ).json()
    assert body["status"] == "success"
    result = body["data"]["result"]
    assert len(result) == 3 and {r["metric"]["container"] for r in result} == {"analytics"}
    cpu = [float(v) for _, v in result[0]["values"]]
    assert (
        len(cpu) >= 160 and 0.01 < sum(cpu) / len(cpu) < 0.5
    )  # ~0.12 cores on average, far below the 2-core request
    assert max(cpu) > 1.5 * min(cpu)  # the shape of a real trace, not a constant


def test_memory_and_requests_series(prometheus: str) -> None:
    def instant(query: str) -> list[dict[str, Any]]:
        body = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}).json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    memory = instant(
        'max(max_over_time(container_memory_working_set_bytes{namespace="analytics"}[5m])) by (pod)'
    )
    assert memory and all(2e8 < float(r["value"][1]) < 6e8 for r in memory)
    requests = instant('sum(kube_pod_container_resource_requests{namespace="analytics", resource="cpu"})')
    assert float(requests[0]["value"][1]) == 6.0
    oom = instant('kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}')
    assert [r["metric"]["namespace"] for r in oom] == ["ml"]


def test_bad_query_is_a_prometheus_error(prometheus: str) -> None:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": "rate(x[5m]"})
    assert response.status_code == 400 and response.json()["errorType"] == "bad_data"


def test_metrics_api_pod_and_node_usage(kube_client: Any, prometheus: str) -> None:
    custom = client.CustomObjectsApi(kube_client)
    pods = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "analytics", "pods")["items"]
    assert len(pods) == 3 and pods[0]["containers"][0]["usage"]["cpu"].endswith("n")
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")["items"]
    assert {n["metadata"]["name"] for n in nodes} >= {"worker-1", "worker-2", "worker-3"}
