"""`cost` on the small SpotKube instances: valid plans, a proven bound, cost no worse than the baseline."""

from __future__ import annotations

from pathlib import Path

from eval.runner import run_suite
from eval.suite import RunOptions


def test_spotkube_instances(tmp_path: Path) -> None:
    outcome = run_suite("cost", RunOptions(dataset="spotkube", workers=2), tmp_path)
    assert [r.id for r in outcome.results] == ["spotkube/3", "spotkube/30", "spotkube/100"]
    for r in outcome.results:
        assert r.status == "pass", r.detail
        assert r.metrics["violations"] == 0
        assert r.metrics["lower_bound"] <= r.metrics["hourly_cost"] + 1e-9
        assert r.metrics["hourly_cost"] <= r.metrics["baseline_cost"] + 1e-9
    assert outcome.summary["metrics"]["violations"] == 0
