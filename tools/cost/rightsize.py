"""Right-sizing per container, krr's simple strategy by default.

CPU request = max over pods of the pod's p95 CPU usage, no CPU limit; memory request = limit = max over pods
of the peak working set x 1.15. An OOM kill in the window raises memory to at least the limit it was killed
at x 1.25. With an HPA on a resource, that resource gets a per-replica target (usage percentile divided by the
HPA's target utilisation) instead of a silent skip. Short history lowers the confidence, and says so.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.cost.usage.base import ContainerUsage

__all__ = [
    "ContainerResources",
    "HpaTarget",
    "Recommendation",
    "RightsizeStrategy",
    "pod_request",
    "recommend",
]

_MIB = 2**20


class RightsizeStrategy(BaseModel):
    cpu_percentile: float = Field(default=95, gt=0, le=100)
    memory_buffer_pct: float = Field(default=15, ge=0)
    oom_buffer_pct: float = Field(default=25, ge=0)
    history_days: float = Field(default=14, gt=0)
    step_minutes: float = Field(default=5, gt=0)
    min_points: int = Field(default=100, ge=1, description="Fewer samples than this: low confidence.")
    cpu_min_m: int = 10
    memory_min_mib: int = 100


class HpaTarget(BaseModel):
    """The resource metrics an HPA scales the workload on (utilisation targets, percent of request)."""

    name: str
    min_replicas: int = 1
    max_replicas: int
    cpu_utilization_pct: float | None = None
    memory_utilization_pct: float | None = None
    other_metrics: list[str] = Field(default_factory=list)


class ContainerResources(BaseModel):
    cpu_request_m: float | None = None
    cpu_limit_m: float | None = None
    memory_request_mib: float | None = None
    memory_limit_mib: float | None = None


def pod_request(containers: dict[str, ContainerResources]) -> tuple[int, float]:
    """What one pod with these containers requests: millicores and MiB (unset requests count as zero)."""
    cpu = sum(c.cpu_request_m or 0 for c in containers.values())
    mem = sum(c.memory_request_mib or 0 for c in containers.values())
    return round(cpu), round(mem, 3)


class Recommendation(BaseModel):
    workload: str
    container: str
    current: ContainerResources
    recommended: ContainerResources
    confidence: Literal["high", "low", "none"]
    notes: list[str] = Field(default_factory=list)
    cpu_p: float | None = Field(default=None, description="The CPU percentile found (millicores).")
    memory_peak_mib: float | None = None

    def changed(self) -> bool:
        return self.confidence != "none" and self.current != self.recommended


def recommend(
    workload: str,
    container: str,
    current: ContainerResources,
    usage: ContainerUsage,
    strategy: RightsizeStrategy | None = None,
    hpa: HpaTarget | None = None,
) -> Recommendation:
    s = strategy or RightsizeStrategy()
    cpu_pods = [np.percentile(v, s.cpu_percentile) for v in usage.cpu_cores.values() if v]
    mem_pods = [max(v) for v in usage.memory_bytes.values() if v]
    if not cpu_pods and not mem_pods:
        return Recommendation(
            workload=workload, container=container, current=current, recommended=current, confidence="none",
            notes=[f"no usage data from {usage.source or 'the usage source'}: requests left as they are"],
        )  # fmt: skip
    notes: list[str] = []
    confidence: Literal["high", "low"] = "high"
    days = usage.history_seconds / 86400
    if days < s.history_days * 0.5 or usage.points() < s.min_points:
        confidence = "low"
        notes.append(
            f"low confidence: {days:.1f} days and {usage.points()} samples of history "
            f"(the strategy wants {s.history_days:g} days, at least {s.min_points} samples)"
        )
    rec = ContainerResources()
    cpu_p = float(max(cpu_pods)) * 1000 if cpu_pods else None
    if cpu_p is not None:
        cpu = cpu_p
        if hpa and hpa.cpu_utilization_pct:
            cpu = cpu_p / (hpa.cpu_utilization_pct / 100)
            notes.append(
                f"HPA {hpa.name} scales on CPU at {hpa.cpu_utilization_pct:g}% of request: CPU request is a "
                f"per-replica target (p{s.cpu_percentile:g} {cpu_p:.0f}m / {hpa.cpu_utilization_pct:g}%), so "
                f"the HPA keeps scaling at the same load; replicas stay {hpa.min_replicas}-{hpa.max_replicas}"
            )
        rec.cpu_request_m = max(s.cpu_min_m, math.ceil(cpu))
        rec.cpu_limit_m = None
    else:
        rec.cpu_request_m, rec.cpu_limit_m = current.cpu_request_m, current.cpu_limit_m
    peak = max(mem_pods) / _MIB if mem_pods else None
    if peak is not None:
        mem = peak * (1 + s.memory_buffer_pct / 100)
        if usage.oom_killed_limit_bytes:
            floor = usage.oom_killed_limit_bytes / _MIB * (1 + s.oom_buffer_pct / 100)
            if floor > mem:
                notes.append(
                    f"OOM-killed at a {usage.oom_killed_limit_bytes / _MIB:.0f}Mi limit: memory raised to "
                    f"{floor:.0f}Mi (+{s.oom_buffer_pct:g}%)"
                )
                mem = floor
        if hpa and hpa.memory_utilization_pct:
            mem = max(mem, peak / (hpa.memory_utilization_pct / 100))
            notes.append(
                f"HPA {hpa.name} scales on memory at {hpa.memory_utilization_pct:g}%: per-replica target"
            )
        rec.memory_request_mib = rec.memory_limit_mib = max(s.memory_min_mib, math.ceil(mem))
    else:
        rec.memory_request_mib, rec.memory_limit_mib = current.memory_request_mib, current.memory_limit_mib
    if hpa and hpa.other_metrics:
        notes.append(
            f"HPA {hpa.name} also scales on {', '.join(hpa.other_metrics)}: replica count may change"
        )
    return Recommendation(
        workload=workload, container=container, current=current, recommended=rec, confidence=confidence,
        notes=notes, cpu_p=cpu_p, memory_peak_mib=peak,
    )  # fmt: skip
