"""Usage from the Kubernetes metrics API (metrics.k8s.io/v1beta1 PodMetrics): a single current sample.

It has no history, so right-sizing from it always carries a low-confidence note.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from tools.cost.usage.base import ContainerRef, ContainerUsage, UsageError
from tools.quantity import parse_cpu, parse_memory

__all__ = ["MetricsApiUsageSource"]


class MetricsApiUsageSource:
    name = "metrics-api"

    def __init__(self, api_client: Any) -> None:
        self._api_client = api_client

    def container_usage(self, ref: ContainerRef, history: timedelta, step: timedelta) -> ContainerUsage:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = client.CustomObjectsApi(self._api_client)
        try:
            listing = cast(
                dict[str, Any],
                api.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", ref.namespace, "pods"),
            )
        except ApiException as exc:
            raise UsageError(
                f"metrics.k8s.io pods in {ref.namespace}: HTTP {exc.status} {exc.reason}"
            ) from exc
        cpu: dict[str, list[float]] = {}
        mem: dict[str, list[float]] = {}
        for item in listing.get("items", []):
            pod = item.get("metadata", {}).get("name", "")
            if not ref.selects(pod):
                continue
            for c in item.get("containers", []):
                if c.get("name") == ref.container:
                    usage = c.get("usage", {})
                    cpu[pod] = [parse_cpu(usage.get("cpu", "0")) / 1000]
                    mem[pod] = [parse_memory(usage.get("memory", "0")) * 1024 * 1024]
        return ContainerUsage(cpu_cores=cpu, memory_bytes=mem, history_seconds=0.0, source="metrics.k8s.io")
