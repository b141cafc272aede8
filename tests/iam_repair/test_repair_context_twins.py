"""Requests on the same action and resource that need different decisions by context (CloudFix-style
suites hold many): regressions from the eval's `iam-repair` suite, where the repairer used to give up
("failed, 0 edits") although a repair exists, and the edits that fix them (`points.py`)."""

from __future__ import annotations

from collections.abc import Callable

from policies import Policy, parse_policy
from policies.request import Request
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair import Spec, repair
from verifiers.iam.repair.points import carve_out, pinned_deny
from verifiers.iam.repair.prove import allow_policy, find_request

Case = Callable[[str], tuple[Policy, Spec]]
INSTANCE = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"
BUCKET_KEY = "arn:aws:s3:::unrelated-bucket/key"


def _request(resource: str, **context: str) -> Request:
    return Request(action="ec2:TerminateInstances", resource=resource, context=dict(context.items()))


def _ip_policy() -> Policy:
    return parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "ec2:TerminateInstances",
                    "Resource": "*",
                    "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}},
                },
            ],
        }
    )


def test_source_ip_twins_are_repaired_within_the_bound(case: Case) -> None:
    policy, spec = case("source_ip_twins")
    result = repair(policy, spec)
    assert result.status == "repaired", result.explanation
    assert result.policy is not None and result.within_bound
    for sr in spec.requests:
        assert evaluate(result.policy, sr.request).allowed == (sr.expect == "Allow"), sr.describe()
    assert sorted(e.op for e in result.edits) == ["add_deny", "exempt_request"]
    # r3 (must be denied) and r4 (must stay allowed) differ only in aws:SourceIp: the Deny is pinned to r3's
    (deny,) = [e for e in result.edits if e.op == "add_deny"]
    assert deny.detail["condition"] == {"IpAddress": {"aws:SourceIp": ["192.0.2.0"]}}


def test_missing_key_twin_is_repaired(case: Case) -> None:
    policy, spec = case("missing_key_twin")
    result = repair(policy, spec)
    assert result.status == "repaired", result.explanation
    assert result.policy is not None and result.within_bound
    for sr in spec.requests:
        assert evaluate(result.policy, sr.request).allowed == (sr.expect == "Allow"), sr.describe()


def test_carve_out_spares_exactly_one_request() -> None:
    policy = _ip_policy()
    spared = _request(BUCKET_KEY, **{"aws:SourceIp": "198.51.100.7"})
    twin = _request(INSTANCE, **{"aws:SourceIp": "198.51.100.7"})
    (edit, carved), *_ = carve_out(policy, policy.statements[1], spared, [twin], "test")
    assert edit.op == "exempt_request"
    assert evaluate(carved, spared).allowed
    for denied in (twin, _request(BUCKET_KEY), _request(BUCKET_KEY, **{"aws:SourceIp": "198.51.100.8"})):
        assert not evaluate(carved, denied).allowed, denied
    # Z3: the carved policy allows nothing the original did not, beyond the spared action and resource
    point = allow_policy([spared.action], [BUCKET_KEY])
    assert find_request([carved], [policy, point]).status == "unsat"
    assert find_request([carved], [policy]).status == "sat"


def test_carve_out_keeps_denying_when_a_twin_adds_a_key() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "*"},
                {"Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": INSTANCE},
            ],
        }
    )
    spared = _request(INSTANCE)
    twin = _request(INSTANCE, **{"aws:SourceIp": "198.51.100.7"})
    ((_, carved),) = carve_out(policy, policy.statements[1], spared, [twin], "test")
    assert evaluate(carved, spared).allowed and not evaluate(carved, twin).allowed


def test_pinned_deny_requires_the_keys_an_allowed_twin_carries_to_be_missing() -> None:
    policy = _ip_policy()
    wrong = _request(INSTANCE)  # no aws:SourceIp: the NotIpAddress Deny matches it
    twin = _request(INSTANCE, **{"aws:SourceIp": "192.0.2.1"})
    policy = parse_policy({"Version": "2012-10-17", "Statement": [policy.statements[0].to_json()]})
    ((edit, pinned),) = pinned_deny(policy, wrong, [twin], "test")
    assert edit.detail["condition"] == {"Null": {"aws:SourceIp": ["true"]}}
    assert not evaluate(pinned, wrong).allowed and evaluate(pinned, twin).allowed
    assert list(pinned_deny(policy, wrong, [], "test")) == []  # the exact Deny is that already
