"""Container logs with timestamps: what the kubelet's log files hold, and the `log` subresource's options.

The kubelet records what a container prints when it starts (`LogBook.boot`); requests served by a
container's emulated HTTP endpoints append access lines (`LogBook.append`), so `kubectl logs -f`
has new lines to stream. Reading honours `tailLines`, `sinceSeconds`/`sinceTime`, `timestamps` and
`limitBytes` as the kubelet does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["LogBook", "LogLine", "LogQuery", "render"]

Key = tuple[str, str]
"""(pod uid, container name)"""
_LINE_GAP = 0.0137  # seconds between the lines a container prints at start-up


@dataclass(frozen=True)
class LogLine:
    at: float
    text: str


@dataclass(frozen=True)
class LogQuery:
    tail: int | None = None
    since: float | None = None
    """Epoch seconds: lines before it are left out (from sinceSeconds or sinceTime)."""
    timestamps: bool = False
    limit_bytes: int | None = None


def _stamp(at: float) -> str:
    """RFC 3339 with nanoseconds, as the kubelet prefixes each line with `timestamps=true`."""
    whole = int(at)
    nanos = round((at - whole) * 1e9) % 1_000_000_000
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def render(lines: list[LogLine], query: LogQuery) -> bytes:
    """The bytes a log request answers for these lines (limitBytes may cut the last line short)."""
    if query.since is not None:
        lines = [line for line in lines if line.at >= query.since]
    if query.tail is not None:
        lines = lines[-query.tail :] if query.tail > 0 else []
    text = "".join((f"{_stamp(line.at)} " if query.timestamps else "") + line.text + "\n" for line in lines)
    data = text.encode()
    if query.limit_bytes is not None:
        data = data[: query.limit_bytes]
    return data


class LogBook:
    """Each container's current and previous log, keyed by (pod uid, container)."""

    def __init__(self) -> None:
        self._current: dict[Key, list[LogLine]] = {}
        self._previous: dict[Key, list[LogLine]] = {}
        self._booted: dict[Key, tuple[tuple[str, ...], tuple[str, ...], float]] = {}
        self._epoch: dict[Key, int] = {}
        self.changed = threading.Condition()

    def boot(self, key: Key, lines: list[str], previous: list[str], started_at: float) -> None:
        """What the container printed at its start (and its previous instance, after a restart).

        Called on every kubelet sync; only a new start replaces the log, so appended lines stay.
        """
        booted = (tuple(lines), tuple(previous), started_at)
        with self.changed:
            if self._booted.get(key) == booted:
                return
            self._booted[key] = booted
            self._current[key] = [LogLine(started_at + i * _LINE_GAP, t) for i, t in enumerate(lines)]
            earlier = started_at - 150.0
            self._previous[key] = [LogLine(earlier + i * _LINE_GAP, t) for i, t in enumerate(previous)]
            self._epoch[key] = self._epoch.get(key, 0) + 1
            self.changed.notify_all()

    def append(self, key: Key, text: str, at: float | None = None) -> None:
        with self.changed:
            if key not in self._current:
                return
            self._current[key].append(LogLine(time.time() if at is None else at, text))
            self.changed.notify_all()

    def drop(self, key: Key) -> None:
        with self.changed:
            self._current.pop(key, None)
            self._previous.pop(key, None)
            self._booted.pop(key, None)
            self._epoch[key] = self._epoch.get(key, 0) + 1
            self.changed.notify_all()

    def lines(self, key: Key, previous: bool = False) -> list[LogLine]:
        with self.changed:
            return list((self._previous if previous else self._current).get(key, ()))

    def follow(self, key: Key, seen: int, alive: float = 1800.0) -> Iterator[list[LogLine]]:
        """New lines after the first `seen`, as they come; ends when the container restarts or goes.

        Yields an empty list every few seconds while nothing happens, so the server can notice a
        client that went away.
        """
        with self.changed:
            epoch = self._epoch.get(key, 0)
        deadline = time.monotonic() + alive
        while time.monotonic() < deadline:
            with self.changed:
                current = self._current.get(key)
                if current is None or self._epoch.get(key, 0) != epoch:
                    return
                if len(current) <= seen:
                    self.changed.wait(5.0)
                    current = self._current.get(key)
                    if current is None or self._epoch.get(key, 0) != epoch:
                        return
                fresh = current[seen:]
                seen = len(current)
            yield fresh
