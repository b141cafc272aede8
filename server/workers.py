"""Runs in worker processes: the server's own process only speaks HTTP and streams.

A run costs the Python interpreter some tens of milliseconds (the graph, the model, checkpoint writes). In the
server's process, every runnable run thread competes with the event loop for the GIL, so under load the loop
waits its turn to accept a request or send an event. `RunProcesses` moves runs into worker processes (each
builds its own `Runtime` from the same settings, over the same checkpoint database and cluster); the operating
system, not the GIL, shares the CPU between them and the server, and the workers run at a lower priority, so
the server answers at once even when every core is busy with runs.

Messages over each worker's pipe (pickled tuples):
    server -> worker: ("run", run_id, RunRequest) | ("stop",)
    worker -> server: ("ready",) | ("failed", why) while starting; then ("started", run_id) |
                      ("event", run_id, event JSON) | ("end", run_id)
A worker that dies takes its runs with it: each gets an error event, and a new worker takes its place.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from pydantic import TypeAdapter

from agents.events import ErrorEvent, Event
from agents.settings import Settings
from agents.stop import StopSignal
from server.runs import RunRequest, run_events, run_failure

__all__ = ["RunProcesses", "WorkerStartError"]

log = logging.getLogger("opsgraph.server")

Sink = Callable[[list[tuple[str, Any]]], None]
"""Where a run's news goes, in batches of ("started", None), ("event", Event), ("end", None), and ("lost",
None) when its worker died; called from the worker's reader thread."""

_EVENTS: TypeAdapter[Event] = TypeAdapter(Event)
WORKER_NICENESS = 10
"""Workers yield the CPU to the server process: a new request's answer first, a run's next step after."""


class WorkerStartError(RuntimeError):
    """A worker process could not build its runtime (the message says why)."""


def _worker_main(settings: Settings, conn: Connection, threads: int) -> None:
    """A worker process: build the runtime, then run what the server sends on `threads` threads."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock, contextlib.suppress(OSError, EOFError):
            conn.send(message)

    from agents.runtime import Runtime
    from agents.tool_context import tool_context_for

    try:  # the cluster is the settings' kubeconfig (the sandbox the server leased, if so): none starts here
        runtime = Runtime(settings, tool_context=tool_context_for(settings))
    except Exception as exc:  # reported to the server, which refuses to start
        send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    runtime.tool_context.confine(settings.workspace)  # every run here came over HTTP or Slack
    send(("ready",))

    stops: dict[int, tuple[str, StopSignal]] = {}  # by run: its thread, and whether the server stopped it

    def work(run_id: int, request: RunRequest, stop: StopSignal) -> None:
        send(("started", run_id))
        try:
            for event in run_events(runtime, request, stop):
                send(("event", run_id, event.model_dump_json()))
        except Exception as exc:
            send(("event", run_id, run_failure(exc).model_dump_json()))
        finally:
            stops.pop(run_id, None)
            send(("end", run_id))

    with runtime, ThreadPoolExecutor(threads, thread_name_prefix="opsgraph-run") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break  # the server is gone
            if message[0] == "stop":
                break
            if message[0] == "cancel":  # ("cancel", run_id, by): stop that run after its current step
                if message[1] in stops:
                    thread_id, stop = stops[message[1]]
                    stop.set(message[2])
                    runtime.cancel(thread_id, by=message[2])
                continue
            stop = StopSignal()
            stops[message[1]] = (message[2].thread_id, stop)
            pool.submit(work, message[1], message[2], stop)


class _Worker:
    def __init__(self, index: int, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self.index, self.process, self.conn = index, process, conn
        self.runs: dict[int, Sink] = {}
        self.send_lock = threading.Lock()
        self.alive = True


class RunProcesses:
    """A fixed set of worker processes, each running up to `threads` runs at once.

    `settings` must name a durable checkpoint database (SQLite file or Postgres) and a cluster every worker
    can reach: the workers share them with the server's own runtime, which answers the reads (threads,
    pending approvals, audit) in the server process.
    """

    def __init__(self, settings: Settings, processes: int = 2, threads: int = 16) -> None:
        if settings.resolved_checkpoint_url().strip().lower() in (
            "memory",
            "sqlite://",
            "sqlite:///:memory:",
        ):
            raise WorkerStartError("worker processes need a checkpoint database they can share, not memory")
        self.settings, self.threads = settings, threads
        self._context = multiprocessing.get_context("spawn")  # no fork: the server holds live threads
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closing = False
        self._workers: list[_Worker] = []
        starting: list[_Worker] = []
        try:
            for index in range(processes):  # they start side by side
                starting.append(self._start(index))
            for worker in starting:
                self._ready(worker)
                self._workers.append(worker)
        except BaseException:
            for worker in starting:
                if worker not in self._workers and worker.process.is_alive():
                    worker.process.kill()
            self.close()
            raise

    @property
    def size(self) -> int:
        """Worker processes."""
        return len(self._workers)

    @property
    def capacity(self) -> int:
        """Runs executing at once across all workers."""
        return len(self._workers) * self.threads

    def _spawn(self, index: int) -> _Worker:
        worker = self._start(index)
        self._ready(worker)
        return worker

    def _start(self, index: int) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main,
            args=(self.settings, theirs, self.threads),
            name=f"opsgraph-worker-{index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        return _Worker(index, process, ours)

    def _ready(self, worker: _Worker) -> None:
        """Wait for the worker's runtime, then start reading what it sends."""
        index, process, ours = worker.index, worker.process, worker.conn
        if not ours.poll(120):
            process.kill()
            raise WorkerStartError(f"worker {index} did not start within 120 s")
        try:
            first = ours.recv()
        except EOFError:
            raise WorkerStartError(
                f"worker {index} exited while starting (code {process.exitcode})"
            ) from None
        if first[0] != "ready":
            process.join(5)
            raise WorkerStartError(f"worker {index} could not start: {first[1]}")
        threading.Thread(
            target=self._read, args=(worker,), name=f"opsgraph-worker-{index}-reader", daemon=True
        ).start()

    def cancel(self, run_id: int, by: str | None) -> None:
        """Ask the worker running `run_id` to stop it after its current step (a run already over: no-op)."""
        with self._lock:
            worker = next((w for w in self._workers if run_id in w.runs and w.alive), None)
        if worker is None:
            return
        with worker.send_lock, contextlib.suppress(OSError, EOFError):
            worker.conn.send(("cancel", run_id, by))

    def submit(self, request: RunRequest, sink: Sink) -> int | None:
        """Start `request` on the least busy live worker; its news goes to `sink`; returns the run's
        number there. With none (every worker died and none is back yet, or the server is stopping) the
        run ends at once with an error, and the answer is None."""
        with self._lock:
            alive = [] if self._closing else [w for w in self._workers if w.alive]
            worker = min(alive, key=lambda w: len(w.runs)) if alive else None
            run_id = next(self._ids)
            if worker is not None:
                worker.runs[run_id] = sink
            why = "the server is shutting down" if self._closing else "no worker process is running yet"
        if worker is None:
            sink([("event", ErrorEvent(message=f"{why}; retry in a few seconds")), ("end", None)])
            return None
        try:
            with worker.send_lock:
                worker.conn.send(("run", run_id, request))
        except (OSError, EOFError):
            self._lost(worker, [run_id])
        return run_id

    def _read(self, worker: _Worker) -> None:
        """Hand each run its news; what is already in the pipe goes to a run in one batch."""
        gone = False
        while not gone:
            batches: dict[int, list[tuple[str, Any]]] = {}
            try:
                while not batches or (len(batches) <= 64 and worker.conn.poll(0)):
                    message = worker.conn.recv()
                    kind, run_id = message[0], message[1]
                    value = _EVENTS.validate_json(message[2]) if kind == "event" else None
                    batches.setdefault(run_id, []).append((kind, value))
            except (EOFError, OSError):
                gone = True
            self._deliver(worker, batches)
        with self._lock:
            worker.alive = False  # new runs go to the other workers from now on
        worker.process.join(5)
        with self._lock:
            lost = list(worker.runs)
            closing = self._closing
        self._lost(worker, lost)
        if not closing:
            log.error(
                "run worker %d stopped (exit code %s); starting another",
                worker.index,
                worker.process.exitcode,
            )
            try:
                replacement = self._spawn(worker.index)
            except WorkerStartError as exc:
                log.error("could not replace run worker %d: %s", worker.index, exc)
                return
            with self._lock:
                self._workers[self._workers.index(worker)] = replacement

    def _deliver(self, worker: _Worker, batches: dict[int, list[tuple[str, Any]]]) -> None:
        for run_id, items in batches.items():
            with self._lock:
                sink = worker.runs.get(run_id)
                if items[-1][0] == "end":
                    worker.runs.pop(run_id, None)
            if sink is not None:
                sink(items)

    def _lost(self, worker: _Worker, run_ids: list[int]) -> None:
        for run_id in run_ids:
            with self._lock:
                sink = worker.runs.pop(run_id, None)
            if sink is not None:
                message = "the worker process running this run stopped; the thread keeps its last checkpoint"
                sink([("lost", None), ("event", ErrorEvent(message=message)), ("end", None)])

    def close(self) -> None:
        """Stop the workers: they finish the runs they have, then exit."""
        with self._lock:
            self._closing = True
            workers = list(self._workers)
        for worker in workers:
            with worker.send_lock, contextlib.suppress(OSError, EOFError):
                worker.conn.send(("stop",))
        for worker in workers:
            worker.process.join(30)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
            worker.conn.close()
