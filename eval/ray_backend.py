"""`--backend ray`: spread cases over a Ray cluster (the optional `ray` extra).

The cluster is the one `--address` names (`ray://HOST:10001`, KubeRay's client port), else `RAY_ADDRESS`,
else a local Ray instance with `--workers` CPUs. No shared filesystem is assumed: the project's own
packages (code and shipped datasets) travel in the job's `runtime_env` (`py_modules`), each case's data
and replay cassette travel with its task, and each result row and recorded model calls come back to the
driver, which writes them as they arrive. A suite registered at run time travels by value.

Failures: a case past its limit is cancelled (its worker killed) and recorded `timeout`; a worker that dies
(killed, its node lost, stopped by Ray's memory monitor) has its case retried by Ray, and a case whose
worker died on every attempt is recorded `crashed` with one line saying why. Losing the cluster itself
stops the run with `RayBackendError`; the rows written so far stay, and `--resume` runs the rest.
"""

from __future__ import annotations

import importlib
import os
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eval.execute import CaseTask, execute_case, placeholder_result
from eval.pool import OnResult
from eval.suite import Suite
from eval.suites import registered_suite

__all__ = ["CODE_PACKAGES", "RETRIES", "RayBackendError", "connect", "preflight", "run_ray", "runtime_env"]

CODE_PACKAGES = ("opsgraph", "agents", "tools", "policies", "verifiers", "eval", "server", "sandbox")
"""The project's packages a worker imports; shipped by `py_modules`, with the datasets inside `eval/`."""

RETRIES = 2
"""How many times Ray runs a case again whose worker died (a case's own exception is never retried)."""

_FORWARDED_ENV = ("OPSGRAPH_", "OPENAI_")
_CONNECT_TIMEOUT_S = 5.0
_INIT_ATTEMPTS = 3


class RayBackendError(RuntimeError):
    """Ray is missing, unreachable or lost; the message is one line that says which and what to do."""


def _import_ray() -> Any:
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise RayBackendError(
            "--backend ray needs Ray, which is not installed here: pip install 'opsgraph[ray]'"
        ) from None


def _first_line(exc: BaseException) -> str:
    """The message's first line; when that line only introduces the detail ("...from server:"), with it."""
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()] or [text]
    line = lines[0]
    if line.endswith(":") and len(lines) > 1:
        line = f"{line} {lines[1]}"
    return line if len(line) <= 300 else line[:297] + "..."


def runtime_env() -> dict[str, Any]:
    """The job's `runtime_env`: our packages as `py_modules`, and the driver's opsgraph/model settings."""
    modules = []
    for name in CODE_PACKAGES:
        module = importlib.import_module(name)
        modules.append(str(Path(module.__file__ or "").resolve().parent))
    env_vars = {k: v for k, v in os.environ.items() if k.startswith(_FORWARDED_ENV)}
    # Ray retries a task its memory monitor stopped without end by default; a case that needs more memory
    # than a worker has would then run until its time limit. The task's owner reads this (under Ray
    # Client it runs in the job's runtime_env on the head), so such a case ends `crashed`, saying why.
    env_vars.setdefault("RAY_task_oom_retries", str(RETRIES))
    return {"py_modules": modules, "excludes": ["__pycache__", "*.pyc"], "env_vars": env_vars}


def _check_reachable(address: str) -> None:
    """Fail fast with one line when nothing listens at the address (Ray's own client retries ~35 s)."""
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    if not parts.hostname or parts.port is None:
        raise RayBackendError(
            f"--address {address}: expected ray://HOST:PORT (KubeRay's client port is 10001)"
        )
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise RayBackendError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or _first_line(exc)} "
            "(is the head running, and its client port forwarded?)"
        ) from None


def preflight(address: str | None) -> None:
    """Before a run touches its files: Ray imports, and something listens at the cluster's address."""
    _import_ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        _check_reachable(address)


def connect(address: str | None, workers: int) -> bool:
    """Connect this process to the cluster (or start a local instance) with the job's `runtime_env`.

    True when this call connected; False when the process already was (`run_ray` then uses that connection,
    so a caller running several suites connects once and `ray.shutdown()`s at the end).
    """
    ray = _import_ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"runtime_env": runtime_env(), "log_to_driver": False}
    if address:
        _check_reachable(address)
        where = f"the Ray cluster at {address}"
    else:
        options.update(num_cpus=max(1, workers), include_dashboard=False)
        where = "a local Ray instance"
    for attempt in range(_INIT_ATTEMPTS):
        try:
            ray.init(address=address, **options)
            return True
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError or its own errors here
            # A head that has just opened its client port (a fresh KubeRay head pod, `ray start` still
            # starting its agents) refuses a driver with "Initialization failure from server" for a moment.
            transient = address and "Initialization failure" in str(exc)
            if not transient or attempt == _INIT_ATTEMPTS - 1:
                raise RayBackendError(f"cannot connect to {where}: {_first_line(exc)}") from None
            time.sleep(2.0)
    return True


def _remote_case(task: CaseTask, suite: type[Suite] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What a Ray worker runs: register the driver's run-time suite (if any), then the case."""
    if suite is not None:
        from eval.suites import register_suite

        register_suite(suite)
    return execute_case(task)


def _ship_by_value(ray: Any, suite: type[Suite] | None) -> None:
    # A suite defined outside our packages (a test, a user's script) is not importable on a worker.
    if suite is None:
        return
    root = suite.__module__.split(".")[0]
    if root not in CODE_PACKAGES and suite.__module__ != "__main__":
        import sys

        ray.cloudpickle.register_pickle_by_value(sys.modules[suite.__module__])


def _worker_died(ray: Any, exc: BaseException, attempts: int) -> tuple[str, str] | None:
    """The row's status and one-line error when `exc` says the case's worker died, else None."""
    errors = ray.exceptions
    if isinstance(exc, errors.OutOfMemoryError):
        return "crashed", (
            f"the worker ran out of memory and Ray's memory monitor stopped it ({attempts} attempts): "
            "give the workers more memory or run fewer cases at once (--workers)"
        )
    if isinstance(exc, errors.NodeDiedError):
        return "crashed", f"the node running this case died ({attempts} attempts): {_first_line(exc)}"
    if isinstance(exc, errors.WorkerCrashedError | errors.LocalRayletDiedError):
        return "crashed", f"the worker process died while running this case ({attempts} attempts)"
    if isinstance(exc, errors.RayTaskError):
        return "error", f"ray task failed: {_first_line(exc)}"
    return None


def run_ray(
    tasks: list[CaseTask],
    workers: int,
    time_limit_s: float,
    on_result: OnResult,
    *,
    address: str | None = None,
) -> None:
    """Run every task as a Ray task, at most `workers` at a time, reporting each result as it finishes."""
    ray = _import_ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    started_here = connect(address, workers)
    suites = {task.suite: registered_suite(task.suite) for task in tasks}
    for suite in suites.values():
        _ship_by_value(ray, suite)
    remote = ray.remote(max_retries=RETRIES, retry_exceptions=False)(_remote_case)
    where = f"the Ray cluster at {address}" if address else "the local Ray instance"
    pending = list(tasks)
    running: dict[Any, tuple[CaseTask, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                task = pending.pop(0)
                running[remote.remote(task, suites[task.suite])] = (task, time.monotonic())
            deadline = min(start for _, start in running.values()) + time_limit_s
            try:
                ready, _ = ray.wait(
                    list(running), num_returns=1, timeout=max(0.0, deadline - time.monotonic())
                )
            except Exception as exc:
                raise RayBackendError(f"lost {where}: {_first_line(exc)}") from None
            now = time.monotonic()
            for ref in ready:
                task, start = running.pop(ref)
                try:
                    row, calls = ray.get(ref)
                except ray.exceptions.RuntimeEnvSetupError as exc:
                    raise RayBackendError(
                        f"{where} could not set up the job's runtime_env: {_first_line(exc)}"
                    ) from None
                except Exception as exc:
                    died = _worker_died(ray, exc, RETRIES + 1)
                    if died is None:
                        raise RayBackendError(f"lost {where}: {_first_line(exc)}") from None
                    row, calls = placeholder_result(task, died[0], now - start, died[1]), []
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
