"""`iam-explain` on a slice, and a summary that misstates a region is caught."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.case import Case
from eval.runner import run_suite
from eval.suite import CaseEnv, RunOptions
from eval.suites.iam_explain import IamExplainSuite


def test_slice_of_forum_policies_is_faithful(tmp_path: Path) -> None:
    outcome = run_suite("iam-explain", RunOptions(limit=4, workers=2), tmp_path)
    assert [r.status for r in outcome.results] == ["pass"] * 4, [r.detail for r in outcome.results]
    checks = outcome.summary["metrics"]["checks"]
    assert checks["complete"] > 0 and checks["action_count"] > 0


def test_a_misstated_region_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    import eval.suites.iam_explain as suite_module
    from eval.iam_engine import engine_function

    real = engine_function("explain")

    def narrowed(policy: Any) -> Any:
        # A summary that claims a narrower action set than the policy grants.
        out = real(policy)
        allows = tuple(r.model_copy(update={"actions": "s3:GetObject"}) for r in out.allows)
        return out.model_copy(update={"allows": allows})

    monkeypatch.setattr(
        suite_module, "engine_function", lambda name: narrowed if name == "explain" else engine_function(name)
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
    }
    outcome = IamExplainSuite().run_case(Case(id="t", data={"policy": policy, "seed": 0}), CaseEnv("t", None))
    assert not outcome.passed
    assert any("in no stated reachable region" in p or "states" in p for p in outcome.detail["problems"])
