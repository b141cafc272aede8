"""Benchmark of the Kubernetes API sandbox through the official Python client.

    .venv/bin/python bench/sandbox.py [--pods 5000]

Measures: start to first answered request (process start included); the first OpenAPI requests
(the schemas load lazily, on the first of them, not at start); an exec round trip through the
official client's stream API; list pods at N pods (median, typed models and raw JSON); get and patch
requests per second (one client thread); and a krr-style 14-day `query_range` on the Prometheus API.
Prints one line per figure. The kubectl fidelity checklist is `bench/sandbox_kubectl.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from kubernetes import client, config

from sandbox.process import SandboxProcess


def _startup(runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with SandboxProcess(scenario="default") as proc:
            api = config.new_client_from_config(str(proc.kubeconfig))
            client.VersionApi(api).get_code()
            times.append(time.perf_counter() - t0)
            api.close()
    return statistics.median(times)


def _openapi_and_exec() -> None:
    from kubernetes.stream import stream

    with SandboxProcess(scenario="default") as proc:
        api = config.new_client_from_config(str(proc.kubeconfig))
        t0 = time.perf_counter()
        index = api.call_api(
            "GET",
            f"{api.configuration.host}/openapi/v3",
            {"Authorization": api.configuration.api_key["BearerToken"]},
        )
        paths = json.loads(index.read())["paths"]
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        url = f"{api.configuration.host}{paths['apis/apps/v1']['serverRelativeURL']}"
        api.call_api("GET", url, {"Authorization": api.configuration.api_key["BearerToken"]}).read()
        doc = time.perf_counter() - t0
        print(
            f"first /openapi/v3 (loads the schemas, builds every index entry): {first * 1000:.0f} ms; apps/v1 document: {doc * 1000:.0f} ms"
        )
        core = client.CoreV1Api(api)
        pod = core.list_namespaced_pod("shop", label_selector="app=frontend").items[0].metadata.name
        times = _timed(
            lambda: stream(
                core.connect_get_namespaced_pod_exec,
                pod,
                "shop",
                command=["hostname"],
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
            ),
            10,
        )
        print(
            f"exec round trip (WebSocket upgrade, command, Status), median of 10: {statistics.median(times) * 1000:.0f} ms"
        )
        api.close()


def _timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=5000)
    args = parser.parse_args()
    print(f"startup (process start → first answered request, median of 3): {_startup() * 1000:.0f} ms")
    _openapi_and_exec()
    with SandboxProcess(scenario="empty") as proc:
        api = config.new_client_from_config(str(proc.kubeconfig))
        core = client.CoreV1Api(api)
        nodes_needed = args.pods // 100 + 1
        for i in range(nodes_needed):
            core.create_node(
                {
                    "metadata": {"name": f"bench-{i}"},
                    "status": {
                        "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True"}],
                    },
                }
            )
        core.create_namespace({"metadata": {"name": "bench"}})
        t0 = time.perf_counter()
        for i in range(args.pods):
            core.create_namespaced_pod(
                "bench",
                {
                    "metadata": {"name": f"p-{i:05d}", "labels": {"app": f"a{i % 50}"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
                },
            )
        create_s = time.perf_counter() - t0
        print(
            f"create {args.pods} pods (scheduled + status set by the kubelet): {args.pods / create_s:.0f} pods/s"
        )
        typed = _timed(lambda: core.list_namespaced_pod("bench"), 5)
        raw = _timed(lambda: core.list_namespaced_pod("bench", _preload_content=False).read(), 10)
        print(
            f"list {args.pods} pods, median: {statistics.median(raw) * 1000:.0f} ms raw JSON, "
            f"{statistics.median(typed) * 1000:.0f} ms into typed models (client-side decoding)"
        )
        selected = _timed(
            lambda: core.list_namespaced_pod("bench", label_selector="app=a7", _preload_content=False).read(),
            10,
        )
        print(
            f"list with a label selector (1/50 of {args.pods}), median: {statistics.median(selected) * 1000:.1f} ms"
        )
        core.create_namespaced_config_map("bench", {"metadata": {"name": "cm"}, "data": {"n": "0"}})
        n = 500
        t0 = time.perf_counter()
        for _ in range(n):
            core.read_namespaced_config_map("cm", "bench")
        get_rps = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(n):
            core.patch_namespaced_config_map("cm", "bench", {"data": {"n": str(i)}})
        patch_rps = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(n):
            core.read_namespaced_pod("p-00042", "bench")
        pod_rps = n / (time.perf_counter() - t0)
        print(
            f"get configmap: {get_rps:.0f} req/s; get pod: {pod_rps:.0f} req/s; patch configmap: {patch_rps:.0f} req/s "
            "(one client thread)"
        )
        api.close()
    with SandboxProcess(scenario="default") as proc:
        now = time.time()
        query = (
            'max(rate(container_cpu_usage_seconds_total{namespace="analytics", pod=~"analytics-.*", '
            'container="analytics"}[300s])) by (container, pod, job)'
        )
        times = _timed(
            lambda: httpx.post(
                f"{proc.url}/api/v1/query_range",
                data={"query": query, "start": now - 14 * 86400, "end": now, "step": "300s"},
            ).raise_for_status(),
            3,
        )
        print(f"krr-style query_range, 14 days at 5m steps, 3 pods: {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
