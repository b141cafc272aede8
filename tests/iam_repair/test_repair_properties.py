"""Properties and reference policies as repair goals: the engine's counterexamples drive the edits."""

from __future__ import annotations

from policies import Request, parse_policy
from verifiers.iam.compare import compare
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair import check_spec, parse_spec, repair

STRANGER = "arn:aws:iam::999988887777:user/mallory"


def test_public_bucket_policy_gets_its_principal_narrowed() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Public",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::site/*",
                },
                {
                    "Sid": "Team",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::site/*",
                },
            ],
        }
    )
    spec = parse_spec(
        {
            "must_allow": [
                {
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::site/index.html",
                    "Principal": "arn:aws:iam::111122223333:user/web",
                }
            ],
            "properties": ["no_public_access"],
        }
    )
    assert not check_spec(policy, spec).ok
    result = repair(policy, spec)
    assert result.status == "repaired" and [e.op for e in result.edits] == ["narrow_principal"]
    assert result.policy is not None
    assert not evaluate(
        result.policy, Request(action="s3:GetObject", resource="arn:aws:s3:::site/a", principal=STRANGER)
    ).allowed
    assert evaluate(
        result.policy,
        Request(
            action="s3:PutObject",
            resource="arn:aws:s3:::site/a",
            principal="arn:aws:iam::111122223333:user/x",
        ),
    ).allowed


def test_full_admin_is_narrowed_to_what_is_needed() -> None:
    policy = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    spec = parse_spec(
        {
            "must_allow": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}],
            "properties": ["no_full_admin"],
        }
    )
    result = repair(policy, spec)
    assert result.status == "repaired" and len(result.edits) == 1
    assert result.policy is not None and result.policy.statements[0].action == ("s3:GetObject",)


def test_reference_policy_bounds_the_repair() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": "arn:aws:s3:::b/*",
                }
            ],
        }
    )
    reference = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:Put*"], "Resource": "*"}],
    }
    spec = parse_spec(
        {"must_allow": [{"Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/k"}], "reference": reference}
    )
    result = repair(policy, spec)
    assert result.status == "repaired" and result.policy is not None
    assert compare(result.policy, parse_policy(reference)).relation == "less_permissive"
    assert result.comparison is not None and result.comparison.relation == "more_permissive"
    assert not any(a.startswith("s3:Delete") for a in result.policy.statements[0].action or ())
    assert len(result.edits) == 1  # one narrowing; the least permissive of the one-edit repairs
