"""Right-sizing per container, krr's simple strategy by default.

CPU request = max over pods of the pod's p95 CPU usage, no CPU limit; memory request = limit = max over pods
of the peak working set x 1.15. Pods are every pod the workload had in the window, across rollouts.

OOM kills: memory goes above the highest limit the container was killed at, by 25 %, and by twice as much for
each further limit it was killed at (a raise that did not hold: 256 Mi -> 320 Mi, killed again at 320 Mi ->
480 Mi). A killed container's working set stops at its limit, so its real need is unknown: when the peak
reached the kill level the confidence is low and the note says the need may be higher still.

With an HPA on a resource, the request sets where the HPA scales: it adds replicas when average usage passes
target % x request. The recommendation keeps that threshold at the usage percentile (request = percentile /
target %), says how the threshold moves, and estimates the replicas the HPA would run at the mean load with
the new request (between its min and max), which is what the plan prices. Short history lowers the
confidence, and says so.
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
    hpa_replicas: int | None = Field(
        default=None, description="Replicas the HPA would run at the mean load with the new request."
    )

    def changed(self) -> bool:
        return self.confidence != "none" and self.current != self.recommended


def recommend(
    workload: str,
    container: str,
    current: ContainerResources,
    usage: ContainerUsage,
    strategy: RightsizeStrategy | None = None,
    hpa: HpaTarget | None = None,
    replicas: int | None = None,
) -> Recommendation:
    """`replicas`: the workload's replicas today (for the HPA estimate; default: the pods in `usage`)."""
    s = strategy or RightsizeStrategy()
    cpu_pods = [np.percentile(v, s.cpu_percentile) for v in usage.cpu_cores.values() if v]
    mem_pods = [max(v) for v in usage.memory_bytes.values() if v]
    if not cpu_pods and not mem_pods:
        return Recommendation(
            workload=workload, container=container, current=current, recommended=current, confidence="none",
            notes=[f"no usage data from {usage.source or 'the usage source'}: requests left as they are"],
        )  # fmt: skip
    notes: list[str] = []
    confidence: Literal["high", "low"] = "high"  # lowered below for short history or censored memory
    hpa_replicas = None
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
            hpa_replicas = _hpa_note(hpa, current.cpu_request_m, cpu, usage, s, notes, replicas)
        rec.cpu_request_m = max(s.cpu_min_m, math.ceil(cpu))
        rec.cpu_limit_m = None
    else:
        rec.cpu_request_m, rec.cpu_limit_m = current.cpu_request_m, current.cpu_limit_m
    peak = max(mem_pods) / _MIB if mem_pods else None
    if peak is not None:
        mem = peak * (1 + s.memory_buffer_pct / 100)
        if usage.oom_kill_limits or usage.oom_killed_limit_bytes:
            mem, censored = _after_oom(usage, peak, mem, s, notes)
            if censored:
                confidence = "low"
        if hpa and hpa.memory_utilization_pct:
            mem = max(mem, peak / (hpa.memory_utilization_pct / 100))
            notes.append(
                f"HPA {hpa.name} scales on memory at {hpa.memory_utilization_pct:g}% of request: the request is a "
                "per-replica target, so the memory level at which it adds replicas moves with it"
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
        notes=notes, cpu_p=cpu_p, memory_peak_mib=peak, hpa_replicas=hpa_replicas,
    )  # fmt: skip


def _after_oom(
    usage: ContainerUsage, peak: float, mem: float, s: RightsizeStrategy, notes: list[str]
) -> tuple[float, bool]:
    """Memory after OOM kills, and whether the evidence is censored (the peak reached the kill level)."""
    kills = sorted(set(usage.oom_kill_limits) or {usage.oom_killed_limit_bytes or 0.0})
    top = kills[-1] / _MIB
    step = s.oom_buffer_pct / 100 * 2 ** (len(kills) - 1)
    floor = top * (1 + step)
    levels = ", ".join(f"{k / _MIB:.0f}Mi" for k in kills)
    if floor > mem:
        notes.append(
            f"OOM-killed at a {levels} limit: memory raised to {floor:.0f}Mi (+{step:.0%} over {top:.0f}Mi"
            + (f"; {len(kills)} limits were killed in turn, so each step grows" if len(kills) > 1 else "")
            + ")"
        )
        mem = floor
    censored = peak >= 0.9 * top or len(kills) > 1  # the peak seen is cut off at a limit, or raises failed
    if censored:
        seen = f"the working set reached the {top:.0f}Mi limit it was killed at" if peak >= 0.9 * top else (
            f"{len(kills)} raised limits were each killed")  # fmt: skip
        notes.append(
            f"low confidence: {seen}, so the real need is above it and unknown; check again after the new "
            "limit has run a day"
        )
    return mem, censored


def _hpa_note(
    hpa: HpaTarget, old_request: float | None, new_request: float, usage: ContainerUsage, s: RightsizeStrategy,
    notes: list[str], replicas: int | None,
) -> int | None:  # fmt: skip
    """Say how the HPA's CPU threshold moves, and estimate its replicas at the mean load (None: no data)."""
    target = hpa.cpu_utilization_pct or 100.0
    samples = [v for vs in usage.cpu_cores.values() for v in vs]
    mean_m = 1000 * sum(samples) / len(samples) if samples else 0.0
    pods = replicas or max(1, len(usage.cpu_cores))
    before = (
        f"{target / 100 * old_request:.0f}m ({target:g}% of {old_request:.0f}m)" if old_request else "none"
    )
    replicas = None
    if mean_m:
        replicas = min(
            hpa.max_replicas, max(hpa.min_replicas, math.ceil(pods * mean_m / (target / 100 * new_request)))
        )
    notes.append(
        f"HPA {hpa.name} adds replicas when average CPU passes {target:g}% of the request: today at {before}, "
        f"with the new request at {target / 100 * new_request:.0f}m (the p{s.cpu_percentile:g} of usage)"
        + (f"; at the mean load ({mean_m:.0f}m per pod) it would run {replicas} replica(s) "
           f"(between {hpa.min_replicas} and {hpa.max_replicas}), and the plan prices {replicas}" if replicas else "")
    )  # fmt: skip
    return replicas
