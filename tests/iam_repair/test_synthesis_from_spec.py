"""Synthesis without a model: the least permissive policy for a request spec, proven."""

from __future__ import annotations

from policies import Request
from verifiers.iam.compare import compare
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair import parse_spec, synthesize
from verifiers.iam.repair.prove import allow_policy, find_request

SPEC = parse_spec(
    {
        "Requests": [
            {
                "id": "read-east",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/x",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            },
            {"id": "read-y", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/y"},
            {
                "id": "read-eu",
                "Effect": "Deny",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/x",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            },
            {"id": "write", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/x"},
        ]
    }
)


def test_synthesized_policy_satisfies_every_request_and_is_proven() -> None:
    result = synthesize(None, SPEC)
    assert result.status == "synthesized" and result.proven and result.source == "spec"
    assert result.policy is not None
    for sr in SPEC.requests:
        assert evaluate(result.policy, sr.request).allowed == (sr.expect == "Allow")


def test_synthesized_policy_allows_only_the_requested_points() -> None:
    result = synthesize(None, SPEC)
    assert result.policy is not None
    points = allow_policy(["s3:GetObject"], ["arn:aws:s3:::b/x", "arn:aws:s3:::b/y"])
    assert find_request([result.policy], [points]).status == "unsat"
    assert compare(result.policy, points).relation == "less_permissive"  # b/x only under its condition
    assert not evaluate(result.policy, Request(action="s3:GetObject", resource="arn:aws:s3:::b/x")).allowed


def test_nothing_to_allow_gives_the_empty_policy() -> None:
    result = synthesize(None, parse_spec({"must_deny": [{"Action": "s3:GetObject", "Resource": "*"}]}))
    assert result.status == "synthesized" and result.proven
    assert result.policy is not None and result.policy.statements == ()


def test_no_spec_and_no_model_is_a_clear_failure() -> None:
    result = synthesize("read my bucket", None)
    assert result.status == "failed" and not result.proven
    assert "configure a model" in result.unmet[0]
