"""The usage-source protocol: per-container CPU and memory history for the pods of one workload."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

__all__ = ["ContainerRef", "ContainerUsage", "UsageError", "UsageSource"]


class UsageError(RuntimeError):
    """The source could not answer (unreachable, bad response): the message says which and why."""


class ContainerRef(BaseModel):
    """One container of a workload, across its pods."""

    namespace: str
    pods: list[str]
    container: str


class ContainerUsage(BaseModel):
    """Samples per pod: CPU in cores, memory working set in bytes. Empty lists mean no data."""

    cpu_cores: dict[str, list[float]] = Field(default_factory=dict, description="pod -> CPU samples (cores).")
    memory_bytes: dict[str, list[float]] = Field(
        default_factory=dict, description="pod -> working-set samples."
    )
    oom_killed_limit_bytes: float | None = Field(
        default=None, description="Memory limit at the last OOM kill in the window, if any."
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
