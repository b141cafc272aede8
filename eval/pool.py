"""A local process pool that survives its cases: per-case time limits and crash isolation.

`concurrent.futures` cannot stop a running task, and a worker that dies breaks the whole executor. Here
each worker is a forked process on a pipe; a case past its limit gets its worker killed and a `timeout`
row, a worker that dies gives a `crashed` row, and a fresh worker takes the next case.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from eval.execute import CaseTask, execute_case, placeholder_result

__all__ = ["OnResult", "run_local"]

OnResult = Callable[[dict[str, Any], list[dict[str, Any]]], None]


def _worker_main(conn: Connection) -> None:
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(execute_case(task))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    task: CaseTask | None = None
    started: float = 0.0


def _spawn() -> _Worker:
    # fork: workers inherit the loaded modules (fast start) and any suite registered at run time.
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
    process.start()
    child.close()
    return _Worker(process, parent)


def _hand(worker: _Worker, task: CaseTask) -> None:
    worker.task, worker.started = task, time.monotonic()
    worker.conn.send(task)


def _retire(worker: _Worker) -> None:
    if worker.process.is_alive():
        worker.process.kill()
    worker.process.join(timeout=5)
    worker.conn.close()


def run_local(tasks: list[CaseTask], workers: int, time_limit_s: float, on_result: OnResult) -> None:
    """Run every task on `workers` processes, calling `on_result` in the parent as each one finishes."""
    pending = deque(tasks)
    pool: list[_Worker] = []
    try:
        while pending or any(w.task for w in pool):
            for worker in pool:
                if worker.task is None and pending:
                    _hand(worker, pending.popleft())
            while pending and len(pool) < max(1, workers):
                worker = _spawn()
                _hand(worker, pending.popleft())
                pool.append(worker)
            busy = [w for w in pool if w.task is not None]
            deadline = min(w.started for w in busy) + time_limit_s
            ready = wait(
                [w.conn for w in busy] + [w.process.sentinel for w in busy],
                timeout=max(0.0, deadline - time.monotonic()),
            )
            now = time.monotonic()
            for worker in busy:
                task = worker.task
                assert task is not None
                if worker.conn in ready:
                    try:
                        row, calls = worker.conn.recv()
                    except (EOFError, OSError):
                        row, calls = None, []
                    if row is not None:
                        worker.task = None
                        on_result(row, calls)
                        continue
                if worker.conn in ready or worker.process.sentinel in ready:
                    worker.process.join(timeout=2)  # the pipe can close a moment before the exit code is set
                    code = worker.process.exitcode
                    error = f"worker process died (exit code {code}) while running this case"
                    on_result(placeholder_result(task, "crashed", now - worker.started, error), [])
                elif now - worker.started >= time_limit_s:
                    error = f"ran past the per-case limit of {time_limit_s:g} s and was stopped"
                    on_result(placeholder_result(task, "timeout", now - worker.started, error), [])
                else:
                    continue
                _retire(worker)
                pool.remove(worker)
    finally:
        for worker in pool:
            if worker.task is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
                worker.process.join(timeout=5)
            _retire(worker)
