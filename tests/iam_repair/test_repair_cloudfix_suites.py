"""Repair against CloudFix-format request suites we wrote (hand-written cases and generated ones)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from policies import Policy
from verifiers.iam.compare import compare
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair import RepairOptions, Spec, repair
from verifiers.iam.repair.prove import find_request
from verifiers.iam.repair.repair import bound_policies

Case = Callable[[str | Path], tuple[Policy, Spec]]
GENERATED = sorted((Path(__file__).parent / "fixtures/generated").glob("*.json"))


def _assert_proven(original: Policy, spec: Spec) -> None:
    result = repair(original, spec)
    assert result.status == "repaired", result.explanation
    assert result.policy is not None
    for sr in spec.requests:
        assert evaluate(result.policy, sr.request).allowed == (sr.expect == "Allow"), sr.describe()
    assert result.spec_check is not None and result.spec_check.ok
    assert result.comparison is not None
    assert result.comparison.relation == compare(original, result.policy).relation != "unknown"
    for c in result.comparison.counterexamples:  # each counterexample really separates the two policies
        first = evaluate(original, c.request).allowed
        assert first == (c.allowed_by == "first") and first != evaluate(result.policy, c.request).allowed
    if result.within_bound:
        assert find_request([result.policy], bound_policies(original, spec)).status == "unsat"
    else:
        assert any("NOT within the bound" in w for w in result.warnings)


@pytest.mark.parametrize("path", GENERATED, ids=[p.stem for p in GENERATED])
def test_generated_suite_is_repaired_and_proven(case: Case, path: Path) -> None:
    _assert_proven(*case(path))


@pytest.mark.parametrize("name", ["s3_wildcard", "region_condition", "deny_too_broad", "passrole"])
def test_hand_written_suite_is_repaired_and_proven(case: Case, name: str) -> None:
    _assert_proven(*case(name))


def test_wildcard_is_narrowed_with_the_fewest_edits_least_permissive_first(case: Case) -> None:
    policy, spec = case("s3_wildcard")
    result = repair(policy, spec)
    assert result.policy is not None
    assert [e.op for e in result.edits] == ["narrow_action", "add_allow"]
    # of the one-edit narrowings (drop s3:DeleteObject from s3:*, or keep only what the spec needs), the
    # least permissive wins, and compare proves it against the other
    assert result.policy.statements[0].action == ("s3:GetObject", "s3:PutObject")
    assert any("less_permissive" in p for p in result.proofs)
    assert result.comparison is not None and result.comparison.relation == "incomparable"


def test_forbidden_passrole_is_removed_with_one_edit(case: Case) -> None:
    policy, spec = case("passrole")
    result = repair(policy, spec)
    assert [e.op for e in result.edits] == ["remove_action"]
    assert result.comparison is not None and result.comparison.relation == "more_permissive"
    assert [c.request.action for c in result.comparison.counterexamples] == ["iam:PassRole"]


def test_deny_is_carved_out_without_allowing_more_than_asked(case: Case) -> None:
    policy, spec = case("deny_too_broad")
    result = repair(policy, spec)
    assert result.policy is not None and result.within_bound
    # the Deny keeps denying the read without MFA: it spares the MFA read (a condition, or the one request)
    assert any(e.op in ("add_condition", "exempt_request") and e.statement == 1 for e in result.edits)
    (nomfa,) = [sr for sr in spec.requests if sr.label == "private-read-nomfa"]
    assert evaluate(result.policy, nomfa.request).decision == "ExplicitlyDenied"


def test_keep_most_prefers_the_repair_closest_to_the_original(case: Case) -> None:
    policy, spec = case("s3_wildcard")
    least = repair(policy, spec)
    most = repair(policy, spec, RepairOptions(keep_most=True))
    assert least.policy is not None and most.policy is not None
    assert len(most.edits) == len(least.edits)
    assert compare(most.policy, least.policy).relation == "more_permissive"
    assert most.within_bound and any("most permissive" in p for p in most.proofs)
