"""Repair on each of the 37 quacky-repair tasks (43 policy files), shipped in eval/data/quacky-repair.

The Quacky task: keep every listed request allowed while cutting the policy's permissiveness. Our spec
for it: the requests must be allowed, and `least_privilege` (allow only the actions they name). Each
result must satisfy the spec by the concrete evaluator and be proven by the symbolic engine: allowed by
nothing beyond the original and the requests, and no more permissive than the original.
"""

from __future__ import annotations

from typing import Any

import pytest

from eval.datasets import load_repair_tasks
from policies import parse_policy
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair import parse_spec, repair
from verifiers.iam.repair.measure import allowed_actions
from verifiers.iam.repair.prove import find_request
from verifiers.iam.repair.repair import bound_policies

TASKS = [
    (t.id, name, doc, t.must_allow) for t in load_repair_tasks() for name, doc in sorted(t.policies.items())
]


def test_all_37_tasks_are_present() -> None:
    assert len({t[0] for t in TASKS}) == 37
    assert len(TASKS) == 43


@pytest.mark.parametrize(("task", "name", "doc", "must_allow"), TASKS, ids=[f"{t[0]}/{t[1]}" for t in TASKS])
def test_quacky_task_is_repaired_and_proven(
    task: str, name: str, doc: dict[str, Any], must_allow: list[dict[str, Any]]
) -> None:
    policy = parse_policy(doc)
    spec = parse_spec({"must_allow": must_allow, "properties": ["least_privilege"]})
    result = repair(policy, spec)
    assert result.status in ("repaired", "already_satisfied"), result.explanation
    assert result.policy is not None and result.spec_check is not None and result.spec_check.ok
    for sr in spec.requests:  # the concrete evaluator agrees, request by request
        assert evaluate(result.policy, sr.request).allowed
    needed = {r.request.action.lower() for r in spec.requests}
    assert {a.lower() for a in allowed_actions(result.policy)} <= needed
    assert result.within_bound
    assert find_request([result.policy], bound_policies(policy, spec)).status == "unsat"
    if result.status == "repaired":
        assert result.comparison is not None
        assert result.comparison.relation != "unknown"
