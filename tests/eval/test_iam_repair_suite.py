"""`iam-repair`: a quacky task repaired and verified; CloudFix-style suites generated as specified."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from eval.case import Case
from eval.datasets import load_synthesis_originals
from eval.iam_engine import engine_function, parse
from eval.runner import run_suite
from eval.suite import CaseEnv, RunOptions
from eval.suites.iam_repair import FLIP_SHARE, IamRepairSuite, cloudfix_suite, contradictions


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


def test_cloudfix_cases_with_context_twins_are_repaired(tmp_path: Path) -> None:
    # regressions: these ended "failed, 0 edits" (requests on one action and resource that need different
    # decisions by aws:SourceIp / ec2:Vpc, which no whole-pattern edit separates)
    for dataset in ("cloudfix10/11", "cloudfix50/8"):
        outcome = run_suite("iam-repair", RunOptions(dataset=dataset), tmp_path / dataset.replace("/", "-"))
        (result,) = outcome.results
        assert result.status == "pass", result.detail
        assert result.metrics["repair_status"] == "repaired"
        assert result.metrics["wrong_after"] == 0 and result.metrics["within_bound"] is True


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    case = Case(id="cloudfix10/x", data={"policy": policy, "spec": spec, "group": "cloudfix10"})
    outcome = IamRepairSuite().run_case(case, CaseEnv(case_id=case.id, model=None))
    return {"passed": outcome.passed, **outcome.metrics}


def test_unsatisfiable_is_the_correct_verdict_only_for_a_contradictory_suite() -> None:
    get = {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k", "Condition": {}}
    clash = {"Requests": [{"id": "a", "Effect": "Allow", **get}, {"id": "d", "Effect": "Deny", **get}]}
    assert contradictions(clash) == ["a / d"]
    outcome = _run(clash)
    assert outcome["repair_status"] == "unsatisfiable" and outcome["passed"] is True
    # the same action and resource in another context is no contradiction: it must be repaired
    other = {**get, "Condition": {"StringEquals": {"aws:SourceIp": "192.0.2.1"}}}
    twins = {"Requests": [{"id": "a", "Effect": "Allow", **get}, {"id": "d", "Effect": "Deny", **other}]}
    assert contradictions(twins) == []
    outcome = _run(twins)
    assert outcome["repair_status"] == "repaired" and outcome["passed"] is True
