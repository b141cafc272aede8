"""`--backend ray`: spread cases over a Ray cluster (the optional `ray` extra).

Connects to the cluster named by `RAY_ADDRESS`, or starts a local Ray instance with `workers` CPUs. A case
past its limit is cancelled (its worker is killed) and recorded as `timeout`; a task whose worker dies is
recorded as `crashed`. Suites registered at run time in the driver are not known to Ray workers: only the
built-in suites run on Ray.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any

from eval.execute import CaseTask, execute_case, placeholder_result
from eval.pool import OnResult

__all__ = ["run_ray"]


def run_ray(tasks: list[CaseTask], workers: int, time_limit_s: float, on_result: OnResult) -> None:
    """Run every task as a Ray task, at most `workers` at a time, reporting each result as it finishes."""
    try:
        ray: Any = importlib.import_module("ray")
    except ImportError as exc:
        raise ImportError("--backend ray needs the `ray` extra: pip install 'opsgraph[ray]'") from exc
    started_here = not ray.is_initialized()
    if started_here:
        address = os.environ.get("RAY_ADDRESS")
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=max(1, workers), **kwargs)
    remote = ray.remote(max_retries=0)(execute_case)
    pending = list(tasks)
    running: dict[Any, tuple[CaseTask, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                task = pending.pop(0)
                running[remote.remote(task)] = (task, time.monotonic())
            deadline = min(start for _, start in running.values()) + time_limit_s
            ready, _ = ray.wait(list(running), num_returns=1, timeout=max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            for ref in ready:
                task, start = running.pop(ref)
                try:
                    row, calls = ray.get(ref)
                except Exception as exc:  # a dead worker or a task Ray could not run
                    row, calls = (
                        placeholder_result(task, "crashed", now - start, f"ray task failed: {exc}"),
                        [],
                    )
                on_result(row, calls)
            for ref, (task, start) in list(running.items()):
                if now - start >= time_limit_s:
                    ray.cancel(ref, force=True)
                    running.pop(ref)
                    error = f"ran past the per-case limit of {time_limit_s:g} s and was cancelled"
                    on_result(placeholder_result(task, "timeout", now - start, error), [])
    finally:
        if started_here:
            ray.shutdown()
