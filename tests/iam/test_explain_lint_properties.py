"""explain(), lint() and the property checks (public access, full access, escalation actions)."""

from __future__ import annotations

from tests.iam.builders import allow, deny, policy
from verifiers.iam import (
    allowed_escalation_actions,
    allows,
    allows_full_access,
    allows_public_access,
    evaluate,
    explain,
    lint,
)


def test_explain_marks_shadowed_allows_and_gives_examples() -> None:
    p = policy(allow("s3:Get*", Sid="Read"), allow("s3:DeleteObject", Sid="Gone"), deny("s3:Delete*"))
    e = explain(p)
    read, gone = e.allows
    assert read.reachable is True and gone.reachable is False
    assert read.example is not None and evaluate(p, read.example).allowed
    assert read.access_levels.get("Read", 0) > 10
    assert "no request reaches it" in e.text and "Explicit denies" in e.text


def test_explain_describes_conditions() -> None:
    p = policy(
        allow(
            "s3:*",
            Condition={
                "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                "ForAllValues:StringLike": {"aws:TagKeys": "team*"},
            },
        )
    )
    text = explain(p).text
    assert "aws:SourceIp is in none of [10.0.0.0/8, 192.168.0.0/16]" in text
    assert "every value of aws:TagKeys (true when absent) matches team*" in text


def test_lint_findings_name_pointers() -> None:
    p = policy(
        allow("*"),
        allow(
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            Condition={
                "ForAllValues:StringEquals": {"aws:TagKeys": "a"},
                "StringEquals": {"aws:TagKeys": "b"},
                "NumericLessThan": {"aws:MultiFactorAuthAge": "soon"},
            },
        ),
        allow("nosuchservice:Do", "arn:aws"),
    )
    pointers = {f.pointer for f in lint(p)}
    assert "/Statement/0" in pointers  # wildcard admin
    assert "/Statement/1/Condition/ForAllValues:StringEquals/aws:TagKeys" in pointers  # no Null check
    assert "/Statement/1/Condition/StringEquals/aws:TagKeys" in pointers  # multivalued without a set operator
    assert "/Statement/1/Condition/NumericLessThan/aws:MultiFactorAuthAge" in pointers
    assert "/Statement/2/Action" in pointers and "/Statement/2/Resource" in pointers


def test_property_checks() -> None:
    admin = policy(allow("*"))
    assert allows_full_access(admin) is True
    assert allows_full_access(policy(allow("s3:*"))) is False
    escalation = allowed_escalation_actions(policy(allow(["iam:Pass*", "s3:*"])))
    assert set(escalation) == {"iam:PassRole"}
    assert escalation["iam:PassRole"].request is not None
    public = policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
    )
    assert allows_public_access(public).status == "sat"
    private = policy(
        {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:GetObject", "Resource": "*"}
    )
    assert allows_public_access(private).status == "unsat"
    assert allows(policy(allow("s3:*"), deny("s3:Get*")), action="s3:GetObject").status == "unsat"
