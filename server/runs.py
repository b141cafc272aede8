"""Driving the synchronous `Runtime` from the async server.

Each run iterates in one worker thread from start to finish (LangGraph keeps per-run context that must not
hop threads between steps) and hands its events to the request's coroutine through a queue. A run whose
client goes away still finishes, so its checkpoint and audit rows are complete; the thread's busy flag is
released when the run ends, not when the response does.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agents.events import ErrorEvent, Event, InterruptEvent, ToolCallEvent
from agents.runtime import ModelUnavailableError, PendingApprovalError, ThreadNotFoundError
from server.metrics import Metrics

__all__ = ["BusyThreads", "PreparedRun", "RunPump"]


class BusyThreads:
    """Which threads have a run in progress in this process (a second message gets 409, not a race)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._busy: set[str] = set()

    def claim(self, thread_id: str, wait: float = 0.0) -> bool:
        """Mark the thread busy; `wait` rides out a run that is only finishing its bookkeeping."""
        with self._lock:
            if not self._lock.wait_for(lambda: thread_id not in self._busy, timeout=wait):
                return False
            self._busy.add(thread_id)
            return True

    def release(self, thread_id: str) -> None:
        with self._lock:
            self._busy.discard(thread_id)
            self._lock.notify_all()


class PreparedRun:
    """A run that passed its checks and holds its thread's busy flag until it ends (or never starts)."""

    def __init__(
        self, kind: str, thread_id: str, start: Callable[[], Iterator[Event]], busy: BusyThreads
    ) -> None:
        self.kind, self.thread_id, self._start, self._busy = kind, thread_id, start, busy
        self.started_at = time.perf_counter()
        self.submitted = False  # once True, the worker thread owns the busy flag and releases it at the end
        self._done = False
        self._done_lock = threading.Lock()

    def events(self) -> Iterator[Event]:
        try:
            yield from self._start()
        finally:
            self.finish()

    def finish(self) -> None:
        with self._done_lock:
            if not self._done:
                self._done = True
                self._busy.release(self.thread_id)

    @property
    def finished(self) -> bool:
        return self._done


_EXPECTED = (ThreadNotFoundError, PendingApprovalError, ModelUnavailableError)


class RunPump:
    """Runs prepared runs on a bounded pool of worker threads and streams their events asynchronously."""

    def __init__(self, metrics: Metrics, workers: int = 32) -> None:
        self.metrics = metrics
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsgraph-run")

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def stream(self, run: PreparedRun) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, value: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (shutdown): the run still completes
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        def work() -> None:
            try:
                for event in run.events():
                    put("event", event)
            except _EXPECTED as exc:
                put("event", ErrorEvent(message=str(exc)))
            except Exception as exc:
                put("event", ErrorEvent(message=f"internal error: {type(exc).__name__}: {exc}"))
            finally:
                put("end", None)

        self.metrics.gauge_add("opsgraph_active_streams", 1)
        outcome, first = "error", True
        seen_interrupts: set[str] = set()
        try:
            run.submitted = True
            loop.run_in_executor(self._executor, work)
            while True:
                kind, event = await queue.get()
                if kind == "end":
                    break
                if isinstance(event, InterruptEvent):
                    key = event.approval.model_dump_json()
                    if key in seen_interrupts:  # a paused subgraph reports the same interrupt twice
                        continue
                    seen_interrupts.add(key)
                if first:
                    first = False
                    self.metrics.observe(
                        "opsgraph_run_first_event_seconds",
                        time.perf_counter() - run.started_at,
                        kind=run.kind,
                    )
                if isinstance(event, ToolCallEvent):
                    self.metrics.inc("opsgraph_tool_calls_total", agent=event.agent, tool=event.tool)
                outcome = {"final": "done", "interrupt": "interrupted", "error": "error"}.get(
                    event.type, outcome
                )
                yield event
        finally:
            self.metrics.gauge_add("opsgraph_active_streams", -1)
            self.metrics.inc("opsgraph_runs_total", kind=run.kind, outcome=outcome)
            self.metrics.observe(
                "opsgraph_run_duration_seconds", time.perf_counter() - run.started_at, kind=run.kind
            )
