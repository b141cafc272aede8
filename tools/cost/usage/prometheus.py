"""Usage from the Prometheus HTTP API (`/api/v1/query_range`) with the queries krr uses.

CPU: max(rate(container_cpu_usage_seconds_total{...}[step])) by (container, pod, job)
Memory: max(max_over_time(container_memory_working_set_bytes{...}[step])) by (container, pod, job)
OOM: the memory limit of containers whose last termination was OOMKilled (krr's oomkill loader).
"""

from __future__ import annotations

import ssl
import time
from datetime import timedelta
from typing import Any

import httpx

from tools.cost.usage.base import ContainerRef, ContainerUsage, UsageError

__all__ = ["PrometheusUsageSource", "cpu_query", "memory_query", "oom_query"]


def _selector(ref: ContainerRef) -> str:
    pods = "|".join([*([ref.pod_pattern] if ref.pod_pattern else []), *ref.pods])
    return f'namespace="{ref.namespace}", pod=~"{pods}", container="{ref.container}"'


def _duration(d: timedelta) -> str:
    return f"{max(1, int(d.total_seconds()))}s"


def cpu_query(ref: ContainerRef, step: timedelta) -> str:
    return (
        f"max(rate(container_cpu_usage_seconds_total{{{_selector(ref)}}}[{_duration(step)}])) "
        "by (container, pod, job)"
    )


def memory_query(ref: ContainerRef, step: timedelta) -> str:
    return (
        f"max(max_over_time(container_memory_working_set_bytes{{{_selector(ref)}}}[{_duration(step)}])) "
        "by (container, pod, job)"
    )


def oom_query(ref: ContainerRef) -> str:
    sel = _selector(ref)
    return (
        f'max(max(kube_pod_container_resource_limits{{resource="memory", {sel}}}) by (pod, container, job) '
        f"* on(pod, container, job) group_left(reason) "
        f'max(kube_pod_container_status_last_terminated_reason{{reason="OOMKilled", {sel}}}) '
        "by (pod, container, job, reason)) by (container, pod, job)"
    )


class PrometheusUsageSource:
    """A client of the Prometheus HTTP API; `transport` lets tests replay recorded responses."""

    name = "prometheus"

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 30.0,
        now: float | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(headers=headers, transport=transport, timeout=timeout_s, verify=verify)
        self._now = now

    def close(self) -> None:
        self._client.close()

    def query_range(self, query: str, start: float, end: float, step: timedelta) -> list[dict[str, Any]]:
        """The `result` of a matrix query; UsageError on transport or API errors."""
        endpoint = f"{self.url}/api/v1/query_range"
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": _duration(step)}
        try:
            resp = self._client.post(endpoint, data=params)
        except httpx.HTTPError as exc:
            raise UsageError(f"{endpoint}: {type(exc).__name__}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError as exc:
            raise UsageError(f"{endpoint}: HTTP {resp.status_code}, not JSON") from exc
        if resp.status_code != 200 or body.get("status") != "success":
            raise UsageError(f"{endpoint}: HTTP {resp.status_code}: {body.get('error', 'no error message')}")
        data = body.get("data", {})
        if data.get("resultType") != "matrix":
            raise UsageError(f"{endpoint}: expected a matrix result, got {data.get('resultType')!r}")
        result: list[dict[str, Any]] = data.get("result", [])
        return result

    def _per_pod(self, series: list[dict[str, Any]]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for s in series:
            pod = s.get("metric", {}).get("pod", "")
            out.setdefault(pod, []).extend(
                float(v) for _, v in s.get("values", []) if v not in ("NaN", "+Inf")
            )
        return out

    def container_usage(self, ref: ContainerRef, history: timedelta, step: timedelta) -> ContainerUsage:
        end = self._now if self._now is not None else time.time()
        start = end - history.total_seconds()
        cpu_series = self.query_range(cpu_query(ref, step), start, end, step)
        mem = self._per_pod(self.query_range(memory_query(ref, step), start, end, step))
        oom = self._per_pod(self.query_range(oom_query(ref), start, end, step))
        stamps = [float(t) for s in cpu_series for t, _ in s.get("values", [])]
        oom_values = sorted({v for vs in oom.values() for v in vs})
        return ContainerUsage(
            cpu_cores=self._per_pod(cpu_series),
            memory_bytes=mem,
            oom_killed_limit_bytes=max(oom_values) if oom_values else None,
            oom_kill_limits=oom_values,
            history_seconds=(max(stamps) - min(stamps)) if stamps else 0.0,
            source=f"prometheus {self.url}",
        )
