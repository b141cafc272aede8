"""Do two runs of a suite give the same results? The same cases with the same status, score, metrics and
error, timings aside (every `*_s` key is a measurement of this run, not a result).

A row's `detail` is evidence, not the verdict: a solver's witness may differ between two runs that agree.
iam-compare's counterexamples do, even between two local-pool runs: Z3 picks another concrete request in a
worker that has solved other cases before (each is confirmed by the concrete evaluator either way).

Used to hold a backend to the local pool's results (tests/eval/test_ray_*.py, bench/eval_scale.py).
"""

from __future__ import annotations

from typing import Any

from eval.case import CaseResult

__all__ = ["differences", "outcome"]


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not (isinstance(k, str) and k.endswith("_s"))}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def outcome(result: CaseResult) -> dict[str, Any]:
    """What a case's row concludes: everything but its timings and its evidence (`detail`)."""
    row = result.model_dump(mode="json", exclude={"duration_s", "detail"})
    return dict(_untimed(row))


def differences(a: list[CaseResult], b: list[CaseResult], limit: int = 5) -> list[str]:
    """One line per case whose outcome differs (or that only one run has); empty when the runs agree."""
    left, right = {r.id: outcome(r) for r in a}, {r.id: outcome(r) for r in b}
    lines = []
    for case_id in sorted(left.keys() | right.keys()):
        if left.get(case_id) != right.get(case_id):
            lines.append(f"{case_id}: {left.get(case_id)} != {right.get(case_id)}")
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])
