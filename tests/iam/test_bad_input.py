"""Bad and pathological input: a clear error or a correct answer, never a hang (each query has a budget)."""

from __future__ import annotations

import time

import pytest

from policies import PolicyParseError, Request, parse_policy, parse_requests
from tests.iam.builders import allow, deny, policy, req
from verifiers.iam import compare, decide, evaluate, explain
from verifiers.iam.globs import WitnessBudgetExceededError, find_witness, pattern_glob


def test_five_thousand_statements_evaluate_and_compare_within_budget() -> None:
    big = policy(
        *[allow(f"s3:Get{i}*", f"arn:aws:s3:::bucket-{i}/*") for i in range(5000)], deny("s3:GetObject")
    )
    r = Request(action="s3:Get4999x", resource="arn:aws:s3:::bucket-4999/k")
    assert evaluate(big, r).allowed
    start = time.monotonic()
    result = compare(big, policy(allow("s3:Get*")), timeout_ms=8_000)
    assert time.monotonic() - start < 30
    assert result.relation in ("less_permissive", "unknown")
    if result.relation == "unknown":
        assert result.reason  # an unknown always says why, and is never a verdict


def test_pathological_wildcard_pattern_is_answered_quickly() -> None:
    nasty = "*?*?*?*?*?*?*?*?"
    p = policy(allow("s3:*", f"arn:aws:s3:::{nasty}"))
    q = policy(allow("s3:*", "arn:aws:s3:::*a*b*c*d*e*f*g*h*"))
    start = time.monotonic()
    result = compare(p, q, timeout_ms=5_000)
    assert time.monotonic() - start < 10
    assert result.relation == "more_permissive"
    assert not evaluate(q, result.counterexamples[0].request).allowed


def test_witness_search_has_a_budget() -> None:
    globs = [pattern_glob("*a" + "?" * n + "*") for n in range(12)]
    with pytest.raises(WitnessBudgetExceededError):
        find_witness(globs, [pattern_glob("*b*")], budget=50)


def test_timeouts_are_unknown_never_a_verdict() -> None:
    p = policy(*[allow(f"s3:Get{i}*", f"arn:aws:s3:::b{i}/*{i}*") for i in range(200)])
    q = policy(allow("s3:Get*", "arn:aws:s3:::*"))
    result = compare(p, q, timeout_ms=1)
    assert result.relation in ("unknown", "less_permissive")
    if result.relation == "unknown":
        assert "timed out" in result.reason
    assert decide(p, req("s3:Get1x", "arn:aws:s3:::b1/x1y"), timeout_ms=1).status in ("unknown", "sat")


def test_explain_survives_a_large_policy() -> None:
    big = policy(*[allow(f"ec2:Describe{i}*") for i in range(300)])
    assert len(explain(big, timeout_ms=2_000).allows) == 300


@pytest.mark.parametrize(
    "text",
    [
        "",
        "null",
        "[1, 2]",
        "[" * 100_000,
        '{"Statement": [{"Effect": "Allow", "Action": {"a": 1}}]}',
        "{" * 10,
    ],
)
def test_malformed_input_is_a_parse_error(text: str) -> None:
    with pytest.raises(PolicyParseError):
        parse_requests(text if text.strip() else "{")
    with pytest.raises(PolicyParseError):
        parse_policy(text)
