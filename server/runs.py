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
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agents.events import (
    CancelledEvent,
    ErrorEvent,
    Event,
    InterruptEvent,
    StartEvent,
    TokenEvent,
    ToolCallEvent,
)
from agents.gate import ApprovalDecision
from agents.runtime import ModelUnavailableError, RunConflictError, Runtime, ThreadNotFoundError
from agents.stop import StopSignal
from server.metrics import Metrics

if TYPE_CHECKING:
    from server.workers import RunProcesses

__all__ = [
    "BusyThreads",
    "Foreground",
    "PreparedRun",
    "RunPump",
    "RunRequest",
    "execute_run",
    "run_events",
    "run_failure",
]

STEP_ASIDE_S = 0.2
"""The longest a run waits, between two of its events, for requests that wait for an answer."""


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


class Foreground:
    """Requests still waiting for their response to start (a thread's creation, a message's checks).

    Runs step aside for them between two events: a run's later steps are worth less than a new request's
    first answer, and every runnable Python thread delays the event loop's next turn (the GIL).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def enter(self) -> None:
        with self._cond:
            self._count += 1

    def leave(self) -> None:
        with self._cond:
            self._count -= 1
            if self._count == 0:
                self._cond.notify_all()

    def wait_clear(self, timeout: float = STEP_ASIDE_S) -> bool:
        """Wait (at most `timeout`) until no request waits; False when some still do."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout)


@dataclass(frozen=True)
class RunRequest:
    """A run as data, so that a worker process can execute it: a message, or the answer to an approval."""

    kind: Literal["message", "approval"]
    thread_id: str
    user: str
    text: str = ""
    read_only: bool = False
    decision: ApprovalDecision | None = None
    claim: str | None = None
    """For an approval: the claim `Runtime.claim_approval` made before the response started."""


def execute_run(runtime: Runtime, request: RunRequest) -> Iterator[Event]:
    """The run's events, from `runtime` (in this process or a worker's)."""
    if request.kind == "approval":
        assert request.decision is not None
        return runtime.stream_resume(
            request.thread_id, request.decision, user=request.user, claim=request.claim
        )
    return runtime.stream(
        request.text, thread_id=request.thread_id, user=request.user, read_only=request.read_only
    )


def run_events(runtime: Runtime, request: RunRequest, stop: StopSignal) -> Iterator[Event]:
    """The run's events. A stop asked for before the run started ends it at once; one asked for later is
    the runtime's to carry out (`Runtime.cancel`), handed to it again after each event in case it came
    before the run had started there."""
    if stop.is_set():
        yield CancelledEvent(thread_id=request.thread_id, by=stop.by)
        return
    for event in execute_run(runtime, request):
        yield event
        if stop.is_set():
            runtime.cancel(request.thread_id, by=stop.by)


_EXPECTED = (ThreadNotFoundError, RunConflictError, ModelUnavailableError)


def run_failure(exc: Exception) -> ErrorEvent:
    """The error event for a run that raised: the message of an expected refusal, else the exception."""
    if isinstance(exc, _EXPECTED):
        return ErrorEvent(message=str(exc))
    return ErrorEvent(message=f"internal error: {type(exc).__name__}: {exc}")


class PreparedRun:
    """A run that passed its checks and holds its thread's busy flag until it ends (or never starts).

    `request` says what to run; `runtime` runs it when it stays in this process."""

    def __init__(self, request: RunRequest, runtime: Runtime, busy: BusyThreads) -> None:
        self.request, self._runtime, self._busy = request, runtime, busy
        self.kind, self.thread_id = request.kind, request.thread_id
        self.started_at = time.perf_counter()
        self.submitted = False  # once True, the worker thread owns the busy flag and releases it at the end
        self.stop = StopSignal()
        self.run_id: int | None = None
        """The run's number in a worker process, when it runs in one."""
        self._done = False
        self._done_lock = threading.Lock()

    def events(self) -> Iterator[Event]:
        try:
            yield from run_events(self._runtime, self.request, self.stop)
        finally:
            self.finish()

    def cancel(self, by: str | None) -> None:
        """Stop the run after its current step (in this process)."""
        self.stop.set(by)
        self._runtime.cancel(self.thread_id, by=by)

    def finish(self) -> None:
        with self._done_lock:
            if not self._done:
                self._done = True
                self._busy.release(self.thread_id)

    @property
    def finished(self) -> bool:
        return self._done


def _join_tokens(first: TokenEvent, ready: deque[tuple[str, Any]]) -> TokenEvent:
    """`first` and the token events of the same agent right behind it in `ready`, as one event. A client
    that keeps up gets every token as it comes; one that falls behind (or a busy server) gets fewer,
    longer ones, and never waits for more."""
    parts = [first.text]
    while ready and isinstance(ready[0][1], TokenEvent) and ready[0][1].agent == first.agent:
        parts.append(ready.popleft()[1].text)
    return first if len(parts) == 1 else TokenEvent(agent=first.agent, text="".join(parts))


class RunPump:
    """Runs prepared runs on a bounded pool of worker threads, or in worker processes, and streams their
    events asynchronously."""

    def __init__(
        self,
        metrics: Metrics,
        workers: int = 32,
        foreground: Foreground | None = None,
        processes: RunProcesses | None = None,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        """`on_lost(thread_id)` is told of a run whose worker process died before it could finish."""
        self.metrics = metrics
        self.on_lost = on_lost
        self.foreground = foreground or Foreground()
        self.processes = processes
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsgraph-run")
        self._workers = processes.capacity if processes is not None else workers
        self._running = 0  # runs a worker executes
        self._waiting = 0  # runs accepted that no worker has picked up yet
        self._count_lock = threading.Lock()
        self._active: dict[str, PreparedRun] = {}  # by thread: one run per thread in a process

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    def cancel(self, thread_id: str, by: str | None) -> bool:
        """Ask the thread's run in this process to stop after its current step; False when it has none."""
        with self._count_lock:
            run = self._active.get(thread_id)
        if run is None:
            return False
        if self.processes is None:
            run.cancel(by)
            return True
        run.stop.set(by)
        if run.run_id is not None:
            self.processes.cancel(run.run_id, by)
        return True

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self.processes is not None:
            self.processes.close()

    async def stream(self, run: PreparedRun) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        # batches of (kind, value): ("event", Event) or ("end", None); one wake-up of the loop per batch
        queue: asyncio.Queue[list[tuple[str, Any]]] = asyncio.Queue()

        def put(items: list[tuple[str, Any]]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (shutdown): the run still completes
                loop.call_soon_threadsafe(queue.put_nowait, items)

        def started() -> None:
            with self._count_lock:
                self._waiting -= 1
                self._running += 1

        def ended(began: bool = True) -> None:
            with self._count_lock:
                if began:
                    self._running -= 1
                else:  # refused, or lost with its worker, before a worker thread picked it up
                    self._waiting -= 1

        began = False

        def from_process(items: list[tuple[str, Any]]) -> None:
            nonlocal began
            news = []
            for kind, value in items:
                if kind == "started":
                    began = True
                    started()
                    continue
                if kind == "lost":
                    if self.on_lost is not None:
                        with contextlib.suppress(Exception):  # the error event goes out regardless
                            self.on_lost(run.thread_id)
                    continue
                if kind == "end":
                    ended(began)
                    run.finish()  # the worker process has written its last checkpoint
                news.append((kind, value))
            if news:
                put(news)

        def work() -> None:
            started()
            try:
                events = run.events()
                while True:
                    self.foreground.wait_clear()
                    try:
                        event = next(events)
                    except StopIteration:
                        break
                    put([("event", event)])
            except Exception as exc:
                put([("event", run_failure(exc))])
            finally:
                ended()
                put([("end", None)])

        self.metrics.gauge_add("opsgraph_active_streams", 1)
        outcome, first = "error", True
        seen_interrupts: set[str] = set()
        try:
            run.submitted = True
            with self._count_lock:
                # 0: a worker is free; n: every worker is busy and this run is n-th in line for one
                free = self._running + self._waiting < self._workers
                queued = 0 if free else self._waiting + 1
                self._waiting += 1
                self._active[run.thread_id] = run
            if self.processes is not None:
                run.run_id = self.processes.submit(run.request, from_process)
                if run.stop.is_set() and run.run_id is not None:  # Stop pressed while it was being sent
                    self.processes.cancel(run.run_id, run.stop.by)
            else:
                loop.run_in_executor(self._executor, work)
            # the client learns at once that the run was accepted, for which thread, and whether it waits
            # for a worker; the run's own events (route, tool calls, ...) follow as they happen
            yield StartEvent(thread_id=run.thread_id, queued=queued)
            ready: deque[tuple[str, Any]] = deque()
            while True:
                if not ready:
                    ready.extend(await queue.get())
                while not queue.empty():
                    ready.extend(queue.get_nowait())
                kind, event = ready.popleft()
                if kind == "end":
                    break
                if isinstance(event, TokenEvent):  # tokens that arrived together go out as one event
                    event = _join_tokens(event, ready)
                if isinstance(event, InterruptEvent):
                    key = event.approval.model_dump_json()
                    if key in seen_interrupts:  # a paused subgraph reports the same interrupt twice
                        continue
                    seen_interrupts.add(key)
                if first:  # the run's own first event: what the start event does not stand in for
                    first = False
                    self.metrics.observe(
                        "opsgraph_run_first_event_seconds",
                        time.perf_counter() - run.started_at,
                        kind=run.kind,
                    )
                if isinstance(event, ToolCallEvent):
                    self.metrics.inc("opsgraph_tool_calls_total", agent=event.agent, tool=event.tool)
                outcome = {
                    "final": "done",
                    "interrupt": "interrupted",
                    "error": "error",
                    "cancelled": "cancelled",
                }.get(event.type, outcome)
                yield event
        finally:
            with self._count_lock:
                if self._active.get(run.thread_id) is run:
                    del self._active[run.thread_id]
            self.metrics.gauge_add("opsgraph_active_streams", -1)
            self.metrics.inc("opsgraph_runs_total", kind=run.kind, outcome=outcome)
            self.metrics.observe(
                "opsgraph_run_duration_seconds", time.perf_counter() - run.started_at, kind=run.kind
            )
