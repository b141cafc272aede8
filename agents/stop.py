"""Stopping a run on a person's request (Ctrl-C in `opsgraph chat`, the web page's Stop).

A run's `StopSignal` travels in its config; the approval gate looks at it before every tool call and the
runtime between every two events, so a stopped run makes no further tool call and sends no further event.
A model call under way finishes first (nothing is cut off half-done); the thread keeps its last
checkpoint, and its next message starts a new run.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["STOP_KEY", "RunStoppedError", "StopSignal", "raise_if_stopped"]

STOP_KEY = "stop"
"""The key of the run's `StopSignal` in `config["configurable"]`."""


class RunStoppedError(Exception):
    """The run was stopped by a person; `by` names them when known."""

    def __init__(self, by: str | None = None) -> None:
        super().__init__(f"stopped by {by}" if by else "stopped")
        self.by = by


class StopSignal:
    """Set once, from any thread, by whoever stops the run."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.by: str | None = None

    def set(self, by: str | None = None) -> None:
        if not self._event.is_set():
            self.by = by
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def raise_if_stopped(configurable: dict[str, Any]) -> None:
    """Raise `RunStoppedError` when the run this config belongs to was stopped."""
    stop = configurable.get(STOP_KEY)
    if isinstance(stop, StopSignal) and stop.is_set():
        raise RunStoppedError(stop.by)
