"""Fault localization: which statements cause each wrong decision, ranked."""

from __future__ import annotations

from policies import parse_policy
from verifiers.iam.repair import localize, parse_spec

POLICY = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {
                "Sid": "Reports",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::reports/*",
            },
            {"Sid": "NoLogs", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"},
            {
                "Sid": "Ec2",
                "Effect": "Allow",
                "Action": "ec2:StartInstances",
                "Resource": "arn:aws:ec2:*:*:instance/i-1",
            },
        ],
    }
)


def test_wrongly_allowed_request_blames_the_matching_allows_ranked() -> None:
    spec = parse_spec(
        {
            "must_deny": [
                {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/q1"},
                {"Action": "s3:PutObject", "Resource": "arn:aws:s3:::data/x"},
            ],
        }
    )
    report = localize(POLICY, spec)
    first = report.faults[0]
    assert first.kind == "wrongly_allowed"
    assert [b.statement for b in first.blame] == [0, 1]  # `All` explains both wrong allows, so it ranks first
    assert all(b.role == "allows" for b in first.blame)


def test_explicit_deny_of_a_must_allow_blames_the_deny() -> None:
    spec = parse_spec({"must_allow": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/today"}]})
    fault = localize(POLICY, spec).faults[0]
    assert fault.kind == "wrongly_denied"
    assert [(b.statement, b.effect) for b in fault.blame] == [(2, "Deny")]


def test_missing_allow_names_the_near_misses_and_what_does_not_match() -> None:
    spec = parse_spec(
        {"must_allow": [{"Action": "ec2:StopInstances", "Resource": "arn:aws:ec2:us-east-1:1:instance/i-1"}]}
    )
    fault = localize(POLICY, spec).faults[0]
    assert fault.kind == "not_allowed"
    closest = fault.blame[0]
    assert closest.statement == 3 and closest.mismatched == ("action",)
    assert "action does not match" in fault.describe()


def test_a_correct_policy_has_no_faults() -> None:
    spec = parse_spec({"must_allow": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/q1"}]})
    assert localize(POLICY, spec).faults == ()
