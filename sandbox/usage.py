"""Simulated resource usage of running containers: CPU and memory as functions of time.

A container's mean CPU and memory come from its image (`sandbox.images`); the shape over time comes
from a real VM trace (Azure Public Dataset V1), chosen per workload so replicas move together with a
small per-pod shift. Memory follows CPU loosely (synthetic). OOMKilled containers touch their limit.
Series exist from the workload's creation (the owning Deployment's, else the pod's) up to now.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.images import lookup_image
from sandbox.quantity import parse_quantity
from sandbox.store import parse_rfc3339
from sandbox.traces import STEP_S, Trace, load_traces

__all__ = ["ContainerUsage", "container_usages"]

_MIB = 1024.0 * 1024.0


@dataclass(frozen=True)
class ContainerUsage:
    namespace: str
    pod: str
    container: str
    node: str
    image: str
    trace: Trace
    shift_s: float
    cpu_cores: float
    memory_bytes: float
    memory_limit: float | None
    start: float

    def cpu(self, t: float) -> float:
        return self.cpu_cores * self.trace.level(t + self.shift_s)

    def cpu_seconds(self, t: float) -> float:
        """The counter `container_cpu_usage_seconds_total` at t (zero at the series' start)."""
        return self.cpu_cores * (
            self.trace.integral(t + self.shift_s) - self.trace.integral(self.start + self.shift_s)
        )

    def memory(self, t: float) -> float:
        level = self.trace.level(t + self.shift_s) / self.trace.peak
        value = self.memory_bytes * (0.85 + 0.3 * level)
        return min(value, self.memory_limit) if self.memory_limit else value


def _stamp(text: str | None) -> float:
    return parse_rfc3339(text) if text else time.time()


def _workload_start(cluster: Cluster, pod: dict[str, Any]) -> tuple[str, float]:
    meta = pod["metadata"]
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == "ReplicaSet":
            rs = cluster.store.find(resource("replicasets", "apps"), meta["namespace"], ref.get("name", ""))
            for dep_ref in (rs or {}).get("metadata", {}).get("ownerReferences") or []:
                dep = cluster.store.find(
                    resource("deployments", "apps"), meta["namespace"], dep_ref.get("name", "")
                )
                if dep is not None:
                    return dep["metadata"]["name"], _stamp(dep["metadata"].get("creationTimestamp"))
        if ref.get("name"):
            return str(ref["name"]), _stamp(meta.get("creationTimestamp"))
    return meta["name"], _stamp(meta.get("creationTimestamp"))


def _digest(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def container_usages(cluster: Cluster) -> list[ContainerUsage]:
    """Every container that runs now (running, or crash-looping between restarts)."""
    traces = load_traces(cluster.started)
    out = []
    with cluster.store.lock:
        pods = cluster.store.list(resource("pods"))
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase") != "Running":
            continue
        meta = pod["metadata"]
        workload, start = _workload_start(cluster, pod)
        trace = traces[_digest(f"{meta['namespace']}/{workload}") % len(traces)]
        shift = float((_digest(meta["name"]) % 6) * STEP_S)
        by_name = {c.get("name"): c for c in status.get("containerStatuses") or []}
        for c in pod["spec"].get("containers") or []:
            cs = by_name.get(c["name"]) or {}
            if not (cs.get("state") or {}).get("running") and not (cs.get("lastState") or {}).get(
                "terminated"
            ):
                continue
            image = lookup_image(c.get("image", ""))
            limits = (c.get("resources") or {}).get("limits") or {}
            limit = parse_quantity(limits["memory"]) if "memory" in limits else None
            oom = ((cs.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled"
            memory = (limit or image.memory_mib * _MIB) if oom else image.memory_mib * _MIB
            out.append(
                ContainerUsage(
                    meta["namespace"],
                    meta["name"],
                    c["name"],
                    pod["spec"].get("nodeName", ""),
                    c.get("image", ""),
                    trace,
                    shift,
                    image.cpu_cores,
                    memory,
                    limit,
                    start,
                )
            )
    return out
