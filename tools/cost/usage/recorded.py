"""Usage from a file of recorded series (JSON, optionally gzipped), for offline runs, demos and tests.

Format: {"series": [{"namespace": "shop", "pod": "web-1", "container": "web",
                     "cpu_cores": [[t, v], ...], "memory_bytes": [[t, v], ...],
                     "oom_killed_limit_bytes": 268435456}]}   (the last key optional)
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from tools.cost.usage.base import ContainerRef, ContainerUsage, UsageError

__all__ = ["RecordedSeries", "RecordedUsageSource"]


class RecordedSeries(BaseModel):
    namespace: str
    pod: str
    container: str
    cpu_cores: list[tuple[float, float]] = Field(default_factory=list)
    memory_bytes: list[tuple[float, float]] = Field(default_factory=list)
    oom_killed_limit_bytes: float | None = None


class _File(BaseModel):
    series: list[RecordedSeries]


class RecordedUsageSource:
    name = "recorded"

    def __init__(self, path: Path) -> None:
        try:
            text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
            raw = json.loads(text)
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror})") from exc
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
        try:
            self.series = _File.model_validate(raw).series
        except ValidationError as exc:
            err = exc.errors()[0]
            raise UsageError(f"{path}: /{'/'.join(str(p) for p in err['loc'])}: {err['msg']}") from exc
        self.path = path

    def namespaces(self) -> set[str]:
        return {s.namespace for s in self.series}

    def container_usage(self, ref: ContainerRef, history: timedelta, step: timedelta) -> ContainerUsage:
        chosen = [
            s
            for s in self.series
            if s.namespace == ref.namespace and s.container == ref.container and ref.selects(s.pod)
        ]
        stamps = [t for s in chosen for t, _ in s.cpu_cores]
        end = max(stamps, default=0.0)
        start = end - history.total_seconds()
        ooms = sorted({s.oom_killed_limit_bytes for s in chosen if s.oom_killed_limit_bytes is not None})
        kept = [t for t in stamps if t >= start]
        return ContainerUsage(
            cpu_cores={s.pod: [v for t, v in s.cpu_cores if t >= start] for s in chosen},
            memory_bytes={s.pod: [v for t, v in s.memory_bytes if t >= start] for s in chosen},
            oom_killed_limit_bytes=max(ooms) if ooms else None,
            oom_kill_limits=ooms,
            history_seconds=(max(kept) - min(kept)) if kept else 0.0,
            source=f"recorded {self.path.name}",
        )
