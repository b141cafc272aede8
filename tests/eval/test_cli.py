"""`opsgraph eval datasets|suites|run` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli import app


def test_datasets_lists_every_dataset_with_counts() -> None:
    result = CliRunner().invoke(app, ["eval", "datasets"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name, count in [("quacky-pairs", "546 pairs"), ("quacky-repair", "37 tasks"), ("routing", "180")]:
        assert name in result.output and count in result.output


def test_run_writes_reports_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["eval", "run", "routing", "--limit", "3", "--out", str(out), "--quiet", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[0])
    assert summary["suite"] == "routing" and summary["cases"] == 3
    assert (out / "report.html").is_file()


def test_unknown_suite_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "run", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: unknown suite 'nope'" in result.output


def test_missing_cassette_is_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "run", "routing", "--replay", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_suites_lists_every_suite_with_its_state() -> None:
    from eval.suites import SUITE_NAMES

    result = CliRunner().invoke(app, ["eval", "suites"])
    assert result.exit_code == 0, result.output
    for name in SUITE_NAMES:
        line = next(line for line in result.output.splitlines() if line.startswith(name + " "))
        assert "ready" in line or "cannot run:" in line
