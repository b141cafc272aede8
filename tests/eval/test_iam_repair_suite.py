"""`iam-repair`: a quacky task repaired and verified; CloudFix-style suites generated as specified."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from eval.datasets import load_synthesis_originals
from eval.iam_engine import engine_function, parse
from eval.runner import run_suite
from eval.suite import RunOptions
from eval.suites.iam_repair import FLIP_SHARE, cloudfix_suite


def test_quacky_task_is_repaired_and_checked(tmp_path: Path) -> None:
    outcome = run_suite("iam-repair", RunOptions(dataset="quacky/ec2_enforce_project_tagging"), tmp_path)
    (result,) = outcome.results
    assert result.status == "pass", result.detail
    assert result.metrics["repair_status"] in ("repaired", "already_satisfied")
    assert result.metrics["wrong_after"] == 0
    assert result.metrics["actions_after"] <= result.metrics["actions_before"]
    assert outcome.summary["metrics"]["quacky"]["verified_fixed_rate"] == 1.0


def test_cloudfix_suite_has_the_documented_shape() -> None:
    doc = load_synthesis_originals()["2"]
    suite = cloudfix_suite(doc, 50, seed=7)
    requests = suite["Requests"]
    assert len(requests) == 50
    assert len({r["id"] for r in requests}) == 50
    evaluate, parse_request = engine_function("evaluate"), engine_function("parse_request")
    policy = parse(doc)
    actual = [evaluate(policy, parse_request(r)).decision == "Allowed" for r in requests]
    wrong = sum(a != (r["Effect"] == "Allow") for a, r in zip(actual, requests, strict=True))
    assert wrong == round(50 * FLIP_SHARE)  # exactly the flipped expectations disagree with the policy
    assert Counter(actual)[True] == 30  # 60% of the requests are allowed by the policy itself
    assert cloudfix_suite(doc, 50, seed=7) == suite  # seeded: the same suite every time
