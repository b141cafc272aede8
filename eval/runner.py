"""Run a suite: pick the cases, run them on a backend, stream rows to `results.jsonl`, write the reports.

Rows are appended as cases finish, so an interrupted run keeps what it did and `--resume` runs only the
cases without a row. Model calls go to `cassette.jsonl` beside the results; `--replay` answers every call
from such a file instead of a model.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.case import CaseResult, Usage
from eval.cassette import CassetteEntry, dump_entries, load_cassette
from eval.execute import CaseTask
from eval.report import write_reports
from eval.suite import RunOptions, Suite, run_settings_of
from eval.suites import get_suite

__all__ = ["RunOutcome", "SuiteUnavailableError", "model_info", "read_results", "run_suite"]


class SuiteUnavailableError(RuntimeError):
    """The suite cannot run here; the message says which dependency is missing and why."""


@dataclass
class RunOutcome:
    out_dir: Path
    summary: dict[str, Any]
    results: list[CaseResult]


def read_results(out_dir: Path) -> list[CaseResult]:
    """The rows of a run's `results.jsonl` (the last row wins when a case appears twice)."""
    path = out_dir / "results.jsonl"
    rows: dict[str, CaseResult] = {}
    if path.exists():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    row = CaseResult.model_validate_json(line)
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: not a result row: {exc}") from exc
                rows[row.id] = row
    return list(rows.values())


def _durations(results: list[CaseResult]) -> dict[str, float]:
    times = sorted(r.duration_s for r in results)
    if not times:
        return {}
    return {
        "total_s": round(sum(times), 3),
        "mean_s": round(statistics.fmean(times), 4),
        "median_s": round(statistics.median(times), 4),
        "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 4),
        "max_s": round(times[-1], 4),
    }


def model_info(
    suite: Suite, options: RunOptions, replay: dict[str, list[CassetteEntry]] | None
) -> dict[str, Any]:
    """Which model the run used and the settings its calls were shaped by (empty for a suite without one).

    A replayed run names the model the cassette was recorded with."""
    if not suite.uses_model:
        return {}
    if replay is not None:
        first = next((e for entries in replay.values() for e in entries), None)
        recorded = dict(first.run_settings) if first is not None else {}
        return {
            **recorded,
            "name": first.model if first is not None else "(empty cassette)",
            "replayed_from": str(options.replay),
        }
    from agents.settings import load_settings

    try:
        settings = load_settings(model=options.model) if options.model else load_settings()
        name = settings.resolved_model()
    except ValueError as exc:
        return {"name": "(invalid settings)", "error": str(exc).splitlines()[0]}
    info: dict[str, Any] = {**run_settings_of(settings), "name": name}
    if name.startswith("local:"):
        path = Path(name.removeprefix("local:")).expanduser()
        info["file"] = path.name
        info["file_bytes"] = path.stat().st_size if path.is_file() else None
    return info


def _summary(
    suite: Suite,
    options: RunOptions,
    results: list[CaseResult],
    wall_s: float,
    started: str,
    model: dict[str, Any],
) -> dict[str, Any]:
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "error", "timeout", "crashed")}
    usage = Usage()
    for r in results:
        usage = usage.add(r.usage)
    opts = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()}
    return {
        "suite": suite.name,
        "description": suite.description,
        "started_at": started,
        "wall_s": round(wall_s, 3),
        "options": opts,
        "model": model,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
        "cases": len(results),
        "status": counts,
        "pass_rate": round(counts["pass"] / len(results), 4) if results else None,
        "durations": _durations(results),
        "usage": usage.model_dump(),
        "metrics": {},
    }


def _progress(total: int, label: str) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # No auto-refresh thread: the pool forks workers, and forking beside a running thread is unsafe.
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        auto_refresh=False,
        console=Console(stderr=True),
    )
    return progress, progress.add_task(label, total=total)


def run_suite(name: str, options: RunOptions, out_dir: Path, *, progress: bool = False) -> RunOutcome:
    """Run suite `name` with `options`, writing every output under `out_dir`."""
    suite = get_suite(name)
    reason = suite.unavailable_reason(options)
    if reason is not None:
        raise SuiteUnavailableError(f"suite {name} cannot run: {reason}")
    if options.backend == "ray":
        from eval.ray_backend import preflight

        preflight(options.address)  # a missing Ray or an unreachable cluster fails before any file is touched
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path, cassette_path = out_dir / "results.jsonl", out_dir / "cassette.jsonl"
    cases = suite.cases(options)
    if options.limit is not None:
        cases = suite.select(cases, options.limit)
    previous = read_results(out_dir) if options.resume else []
    if not options.resume:
        results_path.unlink(missing_ok=True)
        cassette_path.unlink(missing_ok=True)
    done = {r.id for r in previous}
    replay = load_cassette(options.replay) if options.replay else None
    tasks = [
        CaseTask(
            name,
            case,
            options.model,
            None if replay is None else replay.get(case.id, []),
            options.replay_in_order,
        )
        for case in cases
        if case.id not in done
    ]
    fresh: list[CaseResult] = []
    bar = _progress(len(tasks), name) if progress and tasks else None

    def on_result(row: dict[str, Any], calls: list[dict[str, Any]]) -> None:
        result = CaseResult.model_validate(row)
        fresh.append(result)
        with results_path.open("a", encoding="utf-8") as fh:
            fh.write(result.model_dump_json() + "\n")
        if calls and replay is None:
            with cassette_path.open("a", encoding="utf-8") as fh:
                fh.write(dump_entries(calls))
        if bar is not None:
            bar[0].advance(bar[1])
            bar[0].refresh()

    if bar is not None:
        bar[0].start()
    try:
        if options.backend == "ray":
            from eval.ray_backend import RayBackendError, run_ray

            try:
                run_ray(tasks, options.workers, options.time_limit_s, on_result, address=options.address)
            except RayBackendError as exc:
                kept = len(previous) + len(fresh)
                raise RayBackendError(
                    f"{exc}; {kept} finished cases are kept in {results_path} (run again with --resume)"
                    if fresh
                    else str(exc)
                ) from None
        else:
            from eval.pool import run_local

            run_local(tasks, options.workers, options.time_limit_s, on_result)
    finally:
        if bar is not None:
            bar[0].stop()
    order = {case.id: n for n, case in enumerate(cases)}
    results = sorted(previous + fresh, key=lambda r: order.get(r.id, len(order)))
    model = model_info(suite, options, replay)
    summary = _summary(suite, options, results, time.perf_counter() - started, started_at, model)
    suite_summary = suite.summarize(results, options)
    summary["metrics"] = suite_summary.metrics
    write_reports(out_dir, summary, suite_summary, results)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return RunOutcome(out_dir, summary, results)
