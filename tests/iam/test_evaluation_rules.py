"""AWS policy evaluation logic (IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements"),
one rule per test; decisions come from both engines (they must agree) unless a policy set is involved."""

from __future__ import annotations

from policies import PolicySet, parse_policy
from tests.iam.builders import allow, allowed, ctx_req, deny, policy, req
from verifiers.iam import evaluate


def test_explicit_deny_beats_allow() -> None:
    # "An explicit deny in any policy overrides any allows."
    p = policy(allow("s3:*"), deny("s3:DeleteObject"))
    assert allowed(p, req("s3:GetObject"))
    assert not allowed(p, req("s3:DeleteObject"))
    assert evaluate(p, req("s3:DeleteObject")).decision == "ExplicitlyDenied"


def test_without_an_allow_the_request_is_implicitly_denied() -> None:
    # "By default, all requests are implicitly denied"
    p = policy(allow("s3:GetObject"))
    assert evaluate(p, req("s3:PutObject")).decision == "ImplicitlyDenied"
    assert not allowed(p, req("s3:PutObject"))


def test_action_names_are_case_insensitive() -> None:
    # "Action ... values are case-insensitive" (IAM JSON policy elements: Action)
    p = policy(allow("S3:getOBJECT"))
    assert allowed(p, req("s3:GetObject"))
    assert allowed(p, req("S3:GETOBJECT"))


def test_action_wildcards() -> None:
    p = policy(allow(["s3:Get*", "iam:?assRole"]))
    assert allowed(p, req("s3:GetObjectAcl"))
    assert allowed(p, req("iam:PassRole"))
    assert not allowed(p, req("iam:PPassRole"))
    assert not allowed(p, req("s3:PutObject"))


def test_resource_ids_are_case_sensitive() -> None:
    # "Resource ... ARNs are case sensitive" for the resource part
    p = policy(allow("s3:*", "arn:aws:s3:::Bucket/*"))
    assert allowed(p, req(resource="arn:aws:s3:::Bucket/x"))
    assert not allowed(p, req(resource="arn:aws:s3:::bucket/x"))


def test_wildcards_stay_within_an_arn_segment() -> None:
    # "You can use wildcard characters (* and ?) within any ARN segment"; each of the first five segments
    # is matched separately, the resource segment may contain colons.
    p = policy(allow("ec2:*", "arn:aws:ec2:*:123456789012:instance/*"))
    assert allowed(p, req("ec2:StartInstances", "arn:aws:ec2:us-east-1:123456789012:instance/i-1"))
    assert not allowed(p, req("ec2:StartInstances", "arn:aws:ec2:us-east-1:999:123456789012:instance/i-1"))
    q = policy(allow("s3:*", "arn:aws:s3:::b/*"))
    assert allowed(q, req(resource="arn:aws:s3:::b/with:colon"))


def test_a_trailing_star_spans_segments() -> None:
    p = policy(allow("s3:*", "arn:aws:s3:*"))
    assert allowed(p, req(resource="arn:aws:s3:::bucket/key"))
    assert allowed(p, req(resource="arn:aws:s3:us-east-1:123:x"))


def test_not_action_matches_every_other_action() -> None:
    # "NotAction ... matches everything except the specified list of actions"
    p = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert allowed(p, req("s3:GetObject"))
    assert not allowed(p, req("iam:CreateUser"))


def test_not_resource_matches_every_other_resource() -> None:
    p = policy({"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::safe/*"}, allow("s3:*"))
    assert allowed(p, req(resource="arn:aws:s3:::safe/x"))
    assert not allowed(p, req(resource="arn:aws:s3:::other/x"))


def test_principal_and_not_principal() -> None:
    # Resource policies: "Principal" names who is allowed; an account id stands for every principal in it.
    p = policy(
        {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:*", "Resource": "*"},
    )
    assert allowed(p, req(principal="arn:aws:iam::123456789012:user/alice"))
    assert allowed(p, req(principal="arn:aws:sts::123456789012:assumed-role/r/s"))
    assert not allowed(p, req(principal="arn:aws:iam::999999999999:user/alice"))
    q = policy(
        allow("s3:*", Principal="*"),
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
            "Action": "s3:Delete*",
            "Resource": "*",
        },
    )
    assert allowed(q, req("s3:DeleteObject", principal="arn:aws:iam::123456789012:user/admin"))
    assert not allowed(q, req("s3:DeleteObject", principal="arn:aws:iam::123456789012:user/bob"))
    assert allowed(q, req("s3:GetObject"))  # anonymous caller: Principal "*" includes it


def test_policy_variables_are_substituted_in_2012_documents() -> None:
    # "Policy variables ... you must specify Version 2012-10-17"
    p = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))
    assert allowed(p, ctx_req({"aws:username": "bob"}, resource="arn:aws:s3:::home/bob/x"))
    assert not allowed(p, ctx_req({"aws:username": "eve"}, resource="arn:aws:s3:::home/bob/x"))
    assert not allowed(p, ctx_req({}, resource="arn:aws:s3:::home/bob/x"))  # missing key: no match


def test_policy_variables_are_literal_in_older_documents() -> None:
    # "Earlier versions of the policy language ... treat ${aws:username} as a literal string"
    p = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"), version=None)
    assert not allowed(p, ctx_req({"aws:username": "bob"}, resource="arn:aws:s3:::home/bob/x"))
    assert allowed(p, ctx_req({}, resource="arn:aws:s3:::home/${aws:username}/x"))


def test_policy_variable_defaults_and_escapes() -> None:
    # "${aws:PrincipalTag/team, 'none'}" uses the default when the key is missing; ${*} is a literal *.
    p = policy(allow("s3:*", "arn:aws:s3:::t/${aws:PrincipalTag/team, 'none'}/${*}"))
    assert allowed(p, ctx_req({}, resource="arn:aws:s3:::t/none/*"))
    assert allowed(p, ctx_req({"aws:PrincipalTag/team": "red"}, resource="arn:aws:s3:::t/red/*"))
    assert not allowed(p, ctx_req({}, resource="arn:aws:s3:::t/none/x"))


def test_a_substituted_value_is_never_a_wildcard() -> None:
    p = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}"))
    assert not allowed(p, ctx_req({"aws:username": "*"}, resource="arn:aws:s3:::home/bob"))
    assert allowed(p, ctx_req({"aws:username": "*"}, resource="arn:aws:s3:::home/*"))


def test_boundary_and_scp_must_also_allow() -> None:
    # "The effective permissions are the intersection of the identity-based policy and the boundary";
    # an SCP must allow the action too.
    identity = policy(allow("s3:*"))
    boundary = policy(allow("s3:Get*"))
    scp = policy(allow(["s3:GetObject", "s3:PutObject"]))
    pset = PolicySet(identity=(identity,), boundary=(boundary,), scp=(scp,))
    assert evaluate(pset, req("s3:GetObject")).allowed
    assert not evaluate(pset, req("s3:PutObject")).allowed  # boundary
    assert not evaluate(pset, req("s3:GetObjectAcl")).allowed  # SCP
    assert evaluate(PolicySet(identity=(identity,), session=(boundary,)), req("s3:GetObject")).allowed
    assert not evaluate(PolicySet(identity=(identity,), session=(boundary,)), req("s3:PutObject")).allowed


def test_resource_policy_same_and_cross_account() -> None:
    # Same account: an allow in either the identity or a resource policy naming the principal suffices;
    # cross account: both (more cases, with the AWS pages, in test_aws_semantics.py).
    bucket = parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:user/a"},
                    "Action": "s3:GetObject",
                    "Resource": "*",
                }
            ]
        }
    )
    empty_identity = policy(allow("sqs:*"))
    same = req(principal="arn:aws:iam::111111111111:user/a").model_copy(
        update={"resource_account": "111111111111"}
    )
    cross = req(principal="arn:aws:iam::111111111111:user/a").model_copy(
        update={"resource_account": "222222222222"}
    )
    assert evaluate(PolicySet(identity=(empty_identity,), resource=(bucket,)), same).allowed
    assert not evaluate(PolicySet(identity=(empty_identity,), resource=(bucket,)), cross).allowed
    both = PolicySet(identity=(policy(allow("s3:GetObject")),), resource=(bucket,))
    assert evaluate(both, cross).allowed


def test_any_explicit_deny_in_the_set_wins() -> None:
    pset = PolicySet(identity=(policy(allow("s3:*")),), scp=(policy(allow("*"), deny("s3:Delete*")),))
    assert evaluate(pset, req("s3:DeleteObject")).decision == "ExplicitlyDenied"


def test_decision_lists_the_statements_that_matched() -> None:
    p = policy(allow("s3:*", Sid="All"), deny("s3:DeleteObject", Sid="NoDelete"))
    decision = evaluate(p, req("s3:DeleteObject"))
    assert [(m.statement, m.sid, m.effect) for m in decision.matched] == [
        (0, "All", "Allow"),
        (1, "NoDelete", "Deny"),
    ]
    assert decision.matched[0].why == "action matches s3:*; resource matches *"
