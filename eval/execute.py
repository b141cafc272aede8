"""Run one case inside a worker: failures become a result row, never an exception that ends the run."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.case import Case, CaseResult
from eval.cassette import CassetteEntry
from eval.suite import CaseEnv
from eval.suites import get_suite

__all__ = ["CaseTask", "execute_case", "placeholder_result"]


@dataclass(frozen=True)
class CaseTask:
    """Everything a worker needs for one case (picklable)."""

    suite: str
    case: Case
    model: str | None
    replay: list[CassetteEntry] | None
    replay_in_order: bool = False


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {Path(last.filename).name}:{last.lineno})"


def execute_case(task: CaseTask) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case's result row and its recorded model calls, as plain dicts."""
    suite = get_suite(task.suite)
    env = CaseEnv(
        case_id=task.case.id, model=task.model, replay=task.replay, replay_in_order=task.replay_in_order
    )
    started = time.perf_counter()
    try:
        outcome = suite.run_case(task.case, env)
        result = CaseResult(
            suite=task.suite,
            id=task.case.id,
            status="pass" if outcome.passed else "fail",
            duration_s=round(time.perf_counter() - started, 6),
            score=outcome.score,
            metrics=outcome.metrics,
            detail=outcome.detail,
            usage=env.usage(),
        )
    except Exception as exc:
        result = CaseResult(
            suite=task.suite,
            id=task.case.id,
            status="error",
            duration_s=round(time.perf_counter() - started, 6),
            usage=env.usage(),
            error=f"{type(exc).__name__}: {exc}{_where(exc)}",
        )
    return result.model_dump(mode="json"), [e.model_dump(mode="json") for e in env.entries()]


def placeholder_result(task: CaseTask, status: str, duration_s: float, error: str) -> dict[str, Any]:
    """The row of a case whose worker timed out or died (nothing came back from it)."""
    return CaseResult.model_validate(
        {
            "suite": task.suite,
            "id": task.case.id,
            "status": status,
            "duration_s": round(duration_s, 6),
            "error": error,
        }
    ).model_dump(mode="json")
