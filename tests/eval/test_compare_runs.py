"""`opsgraph eval compare` shows the figures and cases that differ between two runs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from eval.compare_runs import compare_runs
from eval.runner import run_suite
from eval.suite import RunOptions
from opsgraph.cli import app


def test_compare_finds_changed_cases(fake_suite: type, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run_suite("fake-behaviours", RunOptions(limit=5, time_limit_s=1.0), a)
    run_suite("fake-behaviours", RunOptions(limit=5, time_limit_s=1.0), b)
    rows = [json.loads(line) for line in (b / "results.jsonl").read_text().splitlines()]
    for row in rows:
        if row["id"] == "fail":
            row["status"], row["score"] = "pass", 1.0
    (b / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    diff = compare_runs(a, b)
    assert [c["id"] for c in diff["changed_cases"]] == ["fail"]
    assert diff["changed_cases"][0]["a"] == "fail" and diff["changed_cases"][0]["b"] == "pass"
    result = CliRunner().invoke(app, ["eval", "compare", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "fail: fail -> pass" in result.output


def test_compare_names_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "compare", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 1
    assert "no summary.json" in result.output


def test_compare_puts_several_runs_side_by_side(fake_suite: type, tmp_path: Path) -> None:
    runs = [tmp_path / name for name in ("a", "b", "c")]
    for n, run in enumerate(runs, 1):
        run_suite("fake-behaviours", RunOptions(limit=n + 1, time_limit_s=1.0), run)
    result = CliRunner().invoke(app, ["eval", "compare", *map(str, runs)])
    assert result.exit_code == 0, result.output
    cases = next(line for line in result.output.splitlines() if line.startswith("cases "))
    assert cases.split()[1:] == ["2", "3", "4"]
    assert "3: " in result.output and "model none" in result.output
    one = CliRunner().invoke(app, ["eval", "compare", str(runs[0])])
    assert one.exit_code == 1 and "at least two" in one.output
