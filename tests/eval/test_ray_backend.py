"""`--backend ray` on a local Ray instance (skipped, with the reason, when the `ray` extra is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.runner import run_suite
from eval.suite import RunOptions


def test_routing_runs_on_local_ray_with_the_same_results(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'opsgraph[ray]')")
    local = run_suite("routing", RunOptions(limit=4), tmp_path / "local")
    on_ray = run_suite("routing", RunOptions(limit=4, workers=2, backend="ray"), tmp_path / "ray")
    assert [(r.id, r.status, r.metrics) for r in on_ray.results] == [
        (r.id, r.status, r.metrics) for r in local.results
    ]
    assert on_ray.summary["options"]["backend"] == "ray"
