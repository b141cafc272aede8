"""Property tests: the concrete evaluator and the Z3 engine agree on random policies and requests,
every counterexample `compare` returns is confirmed by the concrete evaluator, and `compare(p, p)` is
`equivalent`. The vocabularies are small on purpose so that random requests often hit the patterns."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import PolicySet, Request, parse_policy
from tests.iam.builders import policy
from tests.iam.policy_sets import generate_cases
from verifiers.iam import compare, decide, evaluate

ACTION_PATTERNS = [
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "S3:PUTOBJECT",
    "ec2:StartInstances",
    "ec2:*",
    "*",
    "iam:?assRole",
]
ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:getobjectacl",
    "ec2:StartInstances",
    "iam:PassRole",
    "iam:GetUser",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/a*",
    "arn:aws:s3:::b?cket/x",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:s3:::bucket/${aws:username}/*",
    "arn:aws:s3:::*${*}",
]
RESOURCES = [
    "arn:aws:s3:::bucket/a1",
    "arn:aws:s3:::bucket/bob/x",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bocket/x",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
    "arn:aws:ec2:us-east-1:123:456:instance/i-1",
    "arn:aws:s3:::Bucket/a1",
]
PRINCIPAL_ELEMENTS: list[Any] = [
    "*",
    {"AWS": "123456789012"},
    {"AWS": ["arn:aws:iam::123456789012:user/alice", "arn:aws:iam::999999999999:root"]},
    {"Service": "lambda.amazonaws.com"},
    {"AWS": "*"},
]
PRINCIPALS = [
    None,
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::123456789012:user/bob",
    "arn:aws:sts::999999999999:assumed-role/r/s",
    "lambda.amazonaws.com",
    "123456789012",
]
CLAUSES: list[tuple[str, str, list[str]]] = [
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "2001:db8::/32"]),
    ("NotIpAddress", "aws:SourceIp", ["10.1.0.0/16"]),
    ("StringEquals", "aws:username", ["bob", "alice"]),
    ("StringNotEquals", "aws:username", ["bob"]),
    ("StringLike", "s3:prefix", ["home/${aws:username}/*", "pub*"]),
    ("StringNotLikeIfExists", "s3:prefix", ["secret*"]),
    ("StringEqualsIgnoreCase", "aws:username", ["BOB"]),
    ("NumericLessThan", "aws:MultiFactorAuthAge", ["3600"]),
    ("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", ["100.5"]),
    ("DateGreaterThan", "aws:CurrentTime", ["2024-01-01T00:00:00Z"]),
    ("DateLessThanEquals", "aws:CurrentTime", ["1735689600"]),
    ("Bool", "aws:SecureTransport", ["true"]),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", ["false"]),
    ("Null", "aws:SourceIp", ["true"]),
    ("Null", "aws:username", ["false"]),
    ("ForAllValues:StringLike", "aws:TagKeys", ["team", "env*"]),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["admin"]),
    ("ForAnyValue:StringNotLike", "aws:TagKeys", ["env*"]),
    ("ArnLike", "aws:SourceArn", ["arn:aws:sns:*:123456789012:topic-*"]),
    ("ArnNotEquals", "aws:SourceArn", ["arn:aws:sns:us-east-1:123456789012:t"]),
    ("BinaryEquals", "s3:x-amz-content-sha256", ["QmluYXJ5"]),
]
CONTEXT_VALUES: dict[str, list[Any]] = {
    "aws:SourceIp": ["10.1.2.3", "10.9.9.9", "192.168.0.1", "2001:db8::1", "not-an-ip"],
    "aws:username": ["bob", "alice", "Bob", "eve"],
    "s3:prefix": ["home/bob/x", "pub/x", "secret/x", "home/eve/y"],
    "aws:MultiFactorAuthAge": ["50", "100.5", "4000", "abc"],
    "aws:CurrentTime": ["2023-06-01T00:00:00Z", "2024-06-01T12:00:00Z", "1800000000", "yesterday"],
    "aws:SecureTransport": ["true", "false", "TRUE", "yes"],
    "aws:MultiFactorAuthPresent": ["true", "false"],
    "aws:TagKeys": [["team"], ["team", "env-prod"], [], ["admin", "x"], "team", "", ["", "admin"]],
    "aws:SourceArn": [
        "arn:aws:sns:us-east-1:123456789012:topic-a",
        "arn:aws:sns:us-east-1:123456789012:t",
        "nope",
    ],
    "s3:x-amz-content-sha256": ["QmluYXJ5", "qmluyxj5"],
}


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2))
    out["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = actions
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2))
    out["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = resources
    if draw(st.integers(0, 4)) == 0:
        out["NotPrincipal" if draw(st.booleans()) else "Principal"] = draw(
            st.sampled_from(PRINCIPAL_ELEMENTS)
        )
    clauses = draw(st.lists(st.sampled_from(CLAUSES), max_size=2, unique_by=lambda c: (c[0], c[1])))
    if clauses:
        block: dict[str, dict[str, list[str]]] = {}
        for op, key, values in clauses:
            block.setdefault(op, {})[key] = values[: draw(st.integers(1, len(values)))]
        out["Condition"] = block
    return out


@st.composite
def policies(draw: st.DrawFn) -> Any:
    version = draw(st.sampled_from(["2012-10-17", "2012-10-17", None]))
    return policy(*draw(st.lists(statements(), min_size=1, max_size=3)), version=version)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    keys = draw(st.lists(st.sampled_from(sorted(CONTEXT_VALUES)), max_size=4, unique=True))
    context = {k: draw(st.sampled_from(CONTEXT_VALUES[k])) for k in keys}
    return Request(
        action=draw(st.sampled_from(ACTIONS)),
        resource=draw(st.sampled_from(RESOURCES)),
        principal=draw(st.sampled_from(PRINCIPALS)),
        context=context,
    )


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(policies(), st.lists(requests(), min_size=1, max_size=4))
def test_concrete_and_symbolic_decisions_agree(p: Any, reqs: list[Request]) -> None:
    for r in reqs:
        concrete = evaluate(p, r).allowed
        symbolic = decide(p, r)
        assert symbolic.status != "unknown", symbolic.reason
        assert (symbolic.status == "sat") == concrete, (p.to_json(), r.to_json())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), policies())
def test_every_counterexample_is_confirmed_by_the_evaluator(p1: Any, p2: Any) -> None:
    result = compare(p1, p2)
    assert result.relation != "unknown", result.reason
    for ce in result.counterexamples:
        first, second = evaluate(p1, ce.request).allowed, evaluate(p2, ce.request).allowed
        assert (first, second) == ((True, False) if ce.allowed_by == "first" else (False, True))
    expected_examples = {"equivalent": 0, "more_permissive": 1, "less_permissive": 1, "incomparable": 2}
    assert len(result.counterexamples) == expected_examples[result.relation]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_a_policy_is_equivalent_to_itself(p: Any) -> None:
    assert compare(p, p).relation == "equivalent"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), policies(), policies(), st.booleans(), requests())
def test_policy_sets_agree(identity: Any, boundary: Any, scp: Any, with_scp: bool, r: Request) -> None:
    # Same-account sets: an identity policy, a permissions boundary and maybe an SCP.
    pset = PolicySet(identity=(identity,), boundary=(boundary,), scp=(scp,) if with_scp else ())
    symbolic = decide(pset, r)
    assert symbolic.status != "unknown", symbolic.reason
    assert (symbolic.status == "sat") == evaluate(pset, r).allowed


def test_generated_policy_sets_agree() -> None:
    # Cross-account principals, resource policies naming accounts, roles, sessions and `*`, boundaries,
    # session policies and SCPs (tests/iam/policy_sets.py); bench/iam_differential.py runs thousands.
    for case in generate_cases(120, seed=3):
        symbolic = decide(case.policies, case.request)
        assert symbolic.status != "unknown", symbolic.reason
        assert (symbolic.status == "sat") == evaluate(case.policies, case.request).allowed, case.line()


def test_a_guessed_variable_value_never_makes_a_sound_block() -> None:
    # A NotResource template's glob under the value tried for its variable once counted as a static
    # negative when proving a resource's patterns contradictory, so Z3 "proved" this request denied.
    identity = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "NotResource": "arn:aws:s3:::b/${aws:PrincipalTag/team}",
                },
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            ],
        }
    )
    bucket = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": ["arn:aws:s3:::b/orders", "arn:aws:s3:::c/orders"],
                    "Condition": {"StringEquals": {"aws:username": "alice"}},
                }
            ],
        }
    )
    request = Request(
        action="s3:GetObject",
        resource="arn:aws:s3:::b/orders",
        context={"aws:PrincipalTag/team": "orders", "aws:TagKeys": ["x"]},
    )
    pset = PolicySet(identity=(identity,), resource=(bucket,))
    assert evaluate(pset, request).allowed
    assert decide(pset, request).status == "sat"
