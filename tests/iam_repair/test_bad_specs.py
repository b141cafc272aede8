"""Bad input: a spec that contradicts itself gets an explanation (not a search), unknown actions are reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from policies import Policy, parse_policy
from verifiers.iam.repair import Spec, parse_spec, repair, synthesize

Case = Callable[[str | Path], tuple[Policy, Spec]]


def test_request_both_allowed_and_denied_is_unsatisfiable_with_both_places(case: Case) -> None:
    policy, spec = case("unsatisfiable")
    start = time.monotonic()
    result = repair(policy, spec)
    assert time.monotonic() - start < 2
    assert result.status == "unsatisfiable"
    assert "/Requests/0" in result.explanation and "/Requests/1" in result.explanation
    assert "allowed and the other denied" in result.explanation
    assert result.to_json()["status"] == "unsatisfiable"


def test_must_allow_inside_a_forbidden_space_is_unsatisfiable() -> None:
    policy = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    )
    spec = parse_spec(
        {
            "must_allow": [{"Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r"}],
            "properties": [{"forbid": {"Action": "iam:PassRole", "Resource": "*"}}],
        }
    )
    result = repair(policy, spec)
    assert result.status == "unsatisfiable"
    assert "/properties/0 forbids it" in result.explanation


def test_must_allow_beyond_the_reference_is_unsatisfiable() -> None:
    reference = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
    }
    policy = parse_policy(reference)
    spec = parse_spec(
        {"must_allow": [{"Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/k"}], "reference": reference}
    )
    result = repair(policy, spec)
    assert result.status == "unsatisfiable"
    assert "reference policy denies it" in result.explanation


def test_unsatisfiable_synthesis_says_why() -> None:
    spec = parse_spec(
        {
            "must_allow": [{"Action": "s3:GetObject", "Resource": "*"}],
            "must_deny": [{"Action": "s3:GetObject", "Resource": "*"}],
        }
    )
    result = synthesize(None, spec)
    assert result.status == "unsatisfiable" and not result.proven
    assert result.unmet and "same request" in result.unmet[0]


def test_unknown_actions_are_reported(case: Case) -> None:
    policy, spec = case("unknown_action")
    result = repair(policy, spec)
    assert any("unknown action 's3:GetObjekt'" in w and "/Requests/0" in w for w in result.warnings)
    assert result.to_json()["warnings"] == list(result.warnings)
