"""One broken case never loses the run: errors, crashes and hangs each become a row and the rest run."""

from __future__ import annotations

from pathlib import Path

from eval.runner import read_results, run_suite
from eval.suite import RunOptions


def test_each_failure_kind_is_isolated(fake_suite: type, tmp_path: Path) -> None:
    out = tmp_path / "run"
    outcome = run_suite("fake-behaviours", RunOptions(workers=2, time_limit_s=1.5), out)
    status = {r.id: r.status for r in outcome.results}
    assert status == {
        "pass-1": "pass",
        "raise": "error",
        "crash": "crashed",
        "hang": "timeout",
        "fail": "fail",
        "pass-2": "pass",
        "pass-3": "pass",
        "pass-4": "pass",
    }
    rows = {r.id: r for r in read_results(out)}
    assert "ValueError: this case is broken on purpose" in (rows["raise"].error or "")
    assert "exit code 3" in (rows["crash"].error or "")
    assert "1.5 s" in (rows["hang"].error or "")
    assert outcome.summary["status"] == {"pass": 4, "fail": 1, "error": 1, "timeout": 1, "crashed": 1}


def test_single_worker_survives_a_crash(fake_suite: type, tmp_path: Path) -> None:
    outcome = run_suite("fake-behaviours", RunOptions(workers=1, time_limit_s=1.0), tmp_path / "one")
    assert [r.id for r in outcome.results][-1] == "pass-4"
    assert outcome.results[-1].status == "pass"
