"""Every run writes results.jsonl, summary.json, report.md and report.html, and each parses."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from eval.case import CaseResult
from eval.runner import run_suite
from eval.suite import RunOptions


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_report_files_are_written_and_parse(fake_suite: type, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_suite("fake-behaviours", RunOptions(time_limit_s=1.0, workers=2), out)
    rows = [CaseResult.model_validate_json(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cases"] == 8 and summary["status"]["pass"] == 4
    assert {"usage", "durations", "wall_s", "options", "metrics"} <= set(summary)
    md = (out / "report.md").read_text()
    assert "## Overview" in md and "## Cases" in md
    assert "| crash | crashed |" in md
    parser = _Collect()
    parser.feed((out / "report.html").read_text())
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert images and all((a.get("src") or "").startswith("data:image/png;base64,") for a in images)
    assert sum(tag == "table" for tag, _ in parser.tags) >= 2


def test_routing_report_has_accuracy_tables(tmp_path: Path) -> None:
    out = tmp_path / "routing"
    outcome = run_suite("routing", RunOptions(limit=6), out)
    assert set(outcome.summary["metrics"]["accuracy"]) >= {"all"}
    md = (out / "report.md").read_text()
    assert "## Accuracy by kind" in md and "## Per agent" in md
