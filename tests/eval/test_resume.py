"""`--resume` runs only the cases without a row, and the summary covers old and new rows."""

from __future__ import annotations

from pathlib import Path

from eval.runner import run_suite
from eval.suite import RunOptions


def _runs(marks: Path) -> list[str]:
    return sorted(p.name.split(".")[0] for p in marks.iterdir())


def test_resume_skips_finished_cases(fake_suite: type, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run_suite("fake-behaviours", RunOptions(limit=2, time_limit_s=1.0), out)
    assert [r.id for r in first.results] == ["pass-1", "raise"]
    assert fake_suite.marks is not None
    for mark in fake_suite.marks.iterdir():
        mark.unlink()
    second = run_suite("fake-behaviours", RunOptions(limit=5, resume=True, time_limit_s=1.0), out)
    assert _runs(fake_suite.marks) == ["crash", "fail", "hang"]
    assert [r.id for r in second.results] == ["pass-1", "raise", "crash", "hang", "fail"]
    assert second.summary["cases"] == 5


def test_without_resume_a_run_starts_over(fake_suite: type, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_suite("fake-behaviours", RunOptions(limit=1), out)
    again = run_suite("fake-behaviours", RunOptions(limit=1), out)
    assert len((out / "results.jsonl").read_text().splitlines()) == 1
    assert again.summary["cases"] == 1
