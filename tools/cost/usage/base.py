"""The usage-source protocol: per-container CPU and memory history for the pods of one workload."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

__all__ = ["ContainerRef", "ContainerUsage", "UsageError", "UsageSource", "pod_pattern"]


class UsageError(RuntimeError):
    """The source could not answer (unreachable, bad response): the message says which and why."""


def pod_pattern(kind: str, name: str) -> str | None:
    """A regular expression (RE2, as PromQL's `=~`) for the names of every pod a workload has had, so that
    history survives rollouts: `<deployment>-<template hash>-<suffix>`, `<statefulset>-<ordinal>`."""
    base = name.replace(".", "[.]")
    if kind == "Deployment":
        return base + "-[a-z0-9]{5,10}-[a-z0-9]{5}"
    if kind == "StatefulSet":
        return base + "-[0-9]+"
    return None


class ContainerRef(BaseModel):
    """One container of a workload, across its pods: today's, and with `pod_pattern` every pod it had."""

    namespace: str
    pods: list[str]
    container: str
    pod_pattern: str | None = None

    def selects(self, pod: str) -> bool:
        return pod in self.pods or (
            self.pod_pattern is not None and re.fullmatch(self.pod_pattern, pod) is not None
        )


class ContainerUsage(BaseModel):
    """Samples per pod: CPU in cores, memory working set in bytes. Empty lists mean no data."""

    cpu_cores: dict[str, list[float]] = Field(default_factory=dict, description="pod -> CPU samples (cores).")
    memory_bytes: dict[str, list[float]] = Field(
        default_factory=dict, description="pod -> working-set samples."
    )
    oom_killed_limit_bytes: float | None = Field(
        default=None, description="The highest memory limit a container was OOM-killed at in the window."
    )
    oom_kill_limits: list[float] = Field(
        default_factory=list, description="Every distinct limit (bytes) it was OOM-killed at, lowest first."
    )
    history_seconds: float = Field(default=0.0, description="Time span the samples cover.")
    source: str = ""

    def points(self) -> int:
        return sum(len(v) for v in self.cpu_cores.values())


@runtime_checkable
class UsageSource(Protocol):
    """Where usage comes from: the Prometheus HTTP API, the metrics API, or a recorded file."""

    name: str

    def container_usage(self, ref: ContainerRef, history: timedelta, step: timedelta) -> ContainerUsage: ...
