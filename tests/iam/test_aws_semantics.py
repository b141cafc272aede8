"""AWS rules that an independent differential check found broken (issue 14, classes 1 to 5): each is
decided by both engines, and each test names the AWS documentation page that states the rule."""

from __future__ import annotations

from typing import Any

from policies import PolicySet, Request, parse_policy
from tests.iam.builders import allow, allowed, ctx_req, deny, policy, req, when
from verifiers.iam import compare, evaluate

ALICE = "arn:aws:iam::111122223333:user/alice"
SESSION = "arn:aws:sts::111122223333:assumed-role/Reader/alice-session"
ROLE = "arn:aws:iam::111122223333:role/ops/Reader"
BUCKET = "arn:aws:s3:::shared/report.csv"


def bucket_policy(principal: Any, effect: str = "Allow", **extra: Any) -> Any:
    return parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": effect, "Principal": principal, "Action": "s3:GetObject", "Resource": "*", **extra}
            ],
        }
    )


def request(principal: str, account: str = "111122223333") -> Request:
    return Request(action="s3:GetObject", resource=BUCKET, principal=principal, resource_account=account)


def test_an_unresolvable_variable_in_not_resource_makes_the_statement_not_apply() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html: "If AWS
    cannot resolve a variable this might cause the entire statement to be invalid" (section "Policy
    variables with no value"). A statement whose NotResource cannot be resolved does not apply, so an
    Allow grants nothing and a Deny denies nothing."""
    not_resource = {"NotResource": "arn:aws:s3:::home/${aws:username}/*"}
    grant = policy({"Effect": "Allow", "Action": "s3:GetObject", **not_resource})
    assert allowed(grant, ctx_req({"aws:username": "bob"}, resource="arn:aws:s3:::other/x"))
    assert not allowed(grant, ctx_req({}, resource="arn:aws:s3:::other/x"))
    fence = policy(allow("s3:*"), {"Effect": "Deny", "Action": "s3:GetObject", **not_resource})
    assert not allowed(fence, ctx_req({"aws:username": "bob"}, resource="arn:aws:s3:::other/x"))
    assert allowed(fence, ctx_req({}, resource="arn:aws:s3:::other/x"))
    # A default value resolves the variable, so the statement applies again.
    with_default = policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "NotResource": "arn:aws:s3:::home/${aws:username, 'x'}/*",
        }
    )
    assert allowed(with_default, ctx_req({}, resource="arn:aws:s3:::other/x"))
    assert not allowed(with_default, ctx_req({}, resource="arn:aws:s3:::home/x/y"))


def test_cross_account_access_needs_a_resource_policy_allow() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html:
    "the identity-based policy must allow the request ... and the resource-based policy in the trusting
    account must also allow it". With no resource policy, an identity policy grants nothing across
    accounts."""
    identity = policy(allow("s3:GetObject"))
    mine = Request(action="s3:GetObject", resource="arn:aws:s3:::b/k", principal=ALICE)
    theirs = mine.model_copy(update={"resource_account": "444455556666"})
    assert allowed(identity, mine)
    assert allowed(identity, mine.model_copy(update={"resource_account": "111122223333"}))
    assert not allowed(identity, theirs)
    ec2 = "arn:aws:ec2:us-east-1:444455556666:instance/i-1"
    assert not allowed(
        policy(allow("ec2:StartInstances")),
        Request(action="ec2:StartInstances", resource=ec2, principal=ALICE),
    )
    assert allowed(PolicySet(identity=(identity,), resource=(bucket_policy({"AWS": ALICE}),)), theirs)
    # Comparing identity policies ranges over same-account requests: the answers do not change.
    assert compare(identity, policy(allow("s3:Get*"))).relation == "less_permissive"


def test_an_account_principal_delegates_to_the_account_so_the_identity_policy_must_allow() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts:
    naming an account "delegates authority to the account"; an identity in it needs its own
    identity-based policy to allow the request. A principal named directly (user, role session) or `*`
    needs nothing more in the same account."""
    nothing = policy(allow("sqs:*"))
    reads = policy(allow("s3:GetObject"))
    for account in ({"AWS": "111122223333"}, {"AWS": "arn:aws:iam::111122223333:root"}):
        bucket = bucket_policy(account)
        assert not allowed(PolicySet(identity=(nothing,), resource=(bucket,)), request(ALICE))
        assert evaluate(PolicySet(identity=(nothing,), resource=(bucket,)), request(ALICE)).reason.startswith(
            "the resource policy allows the account"
        )
        assert allowed(PolicySet(identity=(reads,), resource=(bucket,)), request(ALICE))
        # across accounts the account principal is the trust, and the identity policy allows
        assert allowed(PolicySet(identity=(reads,), resource=(bucket,)), request(ALICE, "444455556666"))
        assert not allowed(PolicySet(identity=(nothing,), resource=(bucket,)), request(ALICE, "444455556666"))
    for direct in ({"AWS": ALICE}, {"AWS": SESSION}, "*", {"AWS": "*"}):
        assert allowed(
            PolicySet(identity=(nothing,), resource=(bucket_policy(direct),)),
            request(ALICE if direct != {"AWS": SESSION} else SESSION),
        )
    # An explicit Deny naming the account applies to every principal in it.
    fence = PolicySet(identity=(reads,), resource=(bucket_policy({"AWS": "111122223333"}, "Deny"),))
    assert evaluate(fence, request(ALICE)).decision == "ExplicitlyDenied"


def test_a_role_arn_in_a_resource_policy_matches_the_role_sessions() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles:
    a role ARN as principal grants to (or denies) the sessions of that role,
    `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` (the role's path is not part of the session ARN).
    Such a grant is still limited by the session's permissions boundary and session policy
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), unlike a grant
    that names the session ARN itself."""
    nothing = policy(allow("sqs:*"))
    reads = policy(allow("s3:GetObject"))
    by_role = bucket_policy({"AWS": ROLE})
    assert allowed(PolicySet(identity=(nothing,), resource=(by_role,)), request(SESSION))
    other_role = "arn:aws:sts::111122223333:assumed-role/Writer/alice-session"
    assert not allowed(PolicySet(identity=(nothing,), resource=(by_role,)), request(other_role))
    assert not allowed(PolicySet(identity=(nothing,), resource=(by_role,)), request(ALICE))
    denied = PolicySet(identity=(reads,), resource=(bucket_policy({"AWS": ROLE}, "Deny"),))
    assert evaluate(denied, request(SESSION)).decision == "ExplicitlyDenied"
    assert not allowed(denied, request(SESSION))
    # The boundary limits a grant to the role, not one to the session itself.
    boundary = policy(allow("sqs:*"))
    assert not allowed(
        PolicySet(identity=(nothing,), resource=(by_role,), boundary=(boundary,)), request(SESSION)
    )
    direct = PolicySet(identity=(nothing,), resource=(bucket_policy({"AWS": SESSION}),), boundary=(boundary,))
    assert allowed(direct, request(SESSION))
    # across accounts the role's grant still needs the identity policy
    assert not allowed(PolicySet(identity=(nothing,), resource=(by_role,)), request(SESSION, "444455556666"))
    assert allowed(PolicySet(identity=(reads,), resource=(by_role,)), request(SESSION, "444455556666"))


def test_for_all_values_over_an_empty_string_is_true() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html:
    ForAllValues "also returns true if there are no keys in the request, or if the key values resolve
    to a null data set, such as an empty string". An empty string is no data for ForAnyValue either."""
    every = when("ForAllValues:StringEquals", "aws:TagKeys", ["team"])
    assert allowed(every, ctx_req({"aws:TagKeys": ""}))
    assert allowed(every, ctx_req({"aws:TagKeys": [""]}))
    assert allowed(every, ctx_req({"aws:TagKeys": ["", "team"]}))
    assert not allowed(every, ctx_req({"aws:TagKeys": ["", "other"]}))
    some = when("ForAnyValue:StringEquals", "aws:TagKeys", ["", "team"])
    assert not allowed(some, ctx_req({"aws:TagKeys": ""}))
    assert allowed(some, ctx_req({"aws:TagKeys": ["", "team"]}))
    # single-valued operators compare the empty string as a value
    assert allowed(when("StringEquals", "aws:username", [""]), ctx_req({"aws:username": ""}))
    assert not allowed(policy(deny("*"), allow("*")), req())


def test_a_not_principal_deny_applies_to_any_principal_with_a_permissions_boundary() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html:
    "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a
    permissions boundary policy attached, regardless of the values specified in the NotPrincipal
    element." (Found by the differential test of generated policy sets; iam-simulate had it right.)"""
    reads = policy(allow("s3:GetObject"))
    fence = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": [ALICE, "111122223333"]},
                    "Action": "s3:*",
                    "Resource": "*",
                }
            ],
        }
    )
    assert allowed(PolicySet(identity=(reads,), resource=(fence,)), request(ALICE))
    bounded = PolicySet(identity=(reads,), resource=(fence,), boundary=(policy(allow("s3:*")),))
    assert evaluate(bounded, request(ALICE)).decision == "ExplicitlyDenied"
    assert not allowed(bounded, request(ALICE))
