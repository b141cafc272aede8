"""compare(): relations, confirmed counterexamples, and the Quacky samples shipped as fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies import load_policy
from tests.iam.builders import allow, deny, policy, when
from verifiers.iam import compare, evaluate

DATA = Path(__file__).parent / "data" / "quacky"
PAIRS = sorted((d.name, m.name) for d in DATA.iterdir() if d.is_dir() for m in d.glob("mutant_*.json"))


def test_relations_on_small_policies() -> None:
    narrow = policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))
    wide = policy(allow("s3:Get*", "arn:aws:s3:::b/*"))
    other = policy(allow("ec2:*"))
    assert compare(narrow, wide).relation == "less_permissive"
    assert compare(wide, narrow).relation == "more_permissive"
    assert compare(narrow, other).relation == "incomparable"
    assert (
        compare(wide, policy(allow("s3:Get*", "arn:aws:s3:::b/*"), deny("s3:GetFoo"))).relation
        == "more_permissive"
    )


def test_counterexamples_are_complete_requests_the_evaluator_confirms() -> None:
    p1 = policy(allow("s3:*"), deny("s3:Delete*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    p2 = policy(allow("s3:*"))
    result = compare(p1, p2)
    assert result.relation == "less_permissive"
    (ce,) = result.counterexamples
    assert ce.allowed_by == "second"
    assert ce.request.action.lower().startswith("s3:delete")
    assert evaluate(p2, ce.request).allowed and not evaluate(p1, ce.request).allowed


def test_equivalent_spellings_are_equivalent() -> None:
    a = policy(allow(["s3:GetObject", "s3:PutObject"], ["arn:aws:s3:::b/*"]))
    b = policy(allow("S3:putobject", "arn:aws:s3:::b/*"), allow("s3:getObject", "arn:aws:s3:::b/*"))
    assert compare(a, b).relation == "equivalent"
    assert (
        compare(
            when("StringEquals", "aws:username", ["a", "b"]), when("StringLike", "aws:username", ["a", "b"])
        ).relation
        == "equivalent"
    )


def test_policy_variable_patterns_are_compared_exactly() -> None:
    # A 2008-10-17 document treats ${aws:username} literally, so dropping the Version changes meaning.
    doc = allow("s3:*", "arn:aws:s3:::home/${aws:username}/*")
    assert compare(policy(doc), policy(doc, version=None)).relation == "incomparable"
    assert compare(policy(doc), policy(allow("s3:*", "arn:aws:s3:::home/*"))).relation == "less_permissive"


@pytest.mark.parametrize(("name", "mutant"), PAIRS)
def test_quacky_samples_compare_with_confirmed_counterexamples(name: str, mutant: str) -> None:
    original = load_policy(str(DATA / name / "original.json"))
    mutated = load_policy(str(DATA / name / mutant))
    result = compare(original, mutated)
    assert result.relation != "unknown", result.reason
    for ce in result.counterexamples:
        yes, no = (original, mutated) if ce.allowed_by == "first" else (mutated, original)
        assert evaluate(yes, ce.request).allowed and not evaluate(no, ce.request).allowed
    backward = compare(mutated, original).relation
    mirror = {"more_permissive": "less_permissive", "less_permissive": "more_permissive"}
    assert backward == mirror.get(result.relation, result.relation)


def test_hand_checked_quacky_relations() -> None:
    # ec2_terminate_instance_ip: the original allows TerminateInstances only from two CIDR blocks (its Deny
    # with NotIpAddress also fires when aws:SourceIp is absent). Mutant 2_7 allows ec2:* unconditionally;
    # mutant 3_2 allows ec2:* except TerminateInstances.
    original = load_policy(str(DATA / "ec2_terminate_instance_ip/original.json"))
    assert (
        compare(original, load_policy(str(DATA / "ec2_terminate_instance_ip/mutant_2_7.json"))).relation
        == "less_permissive"
    )
    assert (
        compare(original, load_policy(str(DATA / "ec2_terminate_instance_ip/mutant_3_2.json"))).relation
        == "incomparable"
    )
