"""Property checks on one policy: allows some request of a given shape, public access, full admin,
privilege-escalation actions. Each answer is proven (with a witness request when yes) or `unknown`.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from policies.model import Policy
from verifiers.iam.budget import BudgetExceededError, remaining_ms, time_budget
from verifiers.iam.compare import compare
from verifiers.iam.encode import encode_policy
from verifiers.iam.exclusive import exclusive
from verifiers.iam.globs import literal_glob, pattern_glob
from verifiers.iam.semantics import action_glob
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, SolveResult, solve
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Space

__all__ = [
    "PRIVILEGE_ESCALATION_ACTIONS",
    "allowed_escalation_actions",
    "allows",
    "allows_full_access",
    "allows_public_access",
]

PRIVILEGE_ESCALATION_ACTIONS = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicyVersion",
    "iam:PassRole",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
    "lambda:UpdateFunctionCode",
    "glue:UpdateDevEndpoint",
    "sts:AssumeRole",
)
"""Actions that let a principal raise its own privileges (Rhino Security Labs' list, abridged)."""


@exclusive
def allows(
    policy: Policy | Sequence[Policy],
    *,
    action: str | None = None,
    resource: str | None = None,
    principal: str | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> SolveResult:
    """Find a request the policy allows whose action/resource/principal match the given patterns.
    `timeout_ms` bounds encoding and solving together."""
    policies = [policy] if isinstance(policy, Policy) else list(policy)
    try:
        with time_budget(timeout_ms):
            space = Space().prepare(policies)
            parts = [encode_policy(space, policies)]
            if action is not None:
                parts.append(space.atom(ACTION, action_glob(action)))
            if resource is not None:
                parts.append(space.atom(RESOURCE, pattern_glob(resource, arn=True)))
            if principal is not None:
                parts.append(space.atom(PRINCIPAL, literal_glob(principal)))
            return solve(space, z3.And(*parts), timeout_ms=remaining_ms(timeout_ms))
    except BudgetExceededError as exc:
        return SolveResult("unknown", reason=str(exc))


@exclusive
def allows_public_access(policy: Policy, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> SolveResult:
    """Does a resource policy allow an anonymous caller (no principal)? Identity policies cannot."""
    if not any(s.principal or s.not_principal for s in policy.statements):
        return SolveResult("unsat", reason="no Principal element: not a resource policy")
    return allows(policy, principal="", timeout_ms=timeout_ms)


@exclusive
def allows_full_access(
    policy: Policy | Sequence[Policy], *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> bool | None:
    """True when the policy allows every request `Action: *, Resource: *` allows; None when unknown."""
    from policies.parse import parse_policy

    admin = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    relation = compare(policy, admin, timeout_ms=timeout_ms).relation
    if relation == "unknown":
        return None
    return relation in ("equivalent", "more_permissive")


@exclusive
def allowed_escalation_actions(
    policy: Policy | Sequence[Policy],
    actions: Sequence[str] = PRIVILEGE_ESCALATION_ACTIONS,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> dict[str, SolveResult]:
    """For each listed action the policy allows on some resource: the proof (its witness request)."""
    out = {}
    for name in actions:
        result = allows(policy, action=name, timeout_ms=timeout_ms)
        if result.status != "unsat":
            out[name] = result
    return out
