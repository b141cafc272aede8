"""Edits that change the decision of one request and no other: the repairer's fallback when whole actions,
resources or context values cannot tell a wrong request from the right ones.

- `pinned_deny`: a Deny of exactly the request's action and resource, limited to its context values
  (`StringEquals` on each key it carries, `Null: true` on the keys that must-allow requests on the same
  action and resource carry and it does not). A request on the same action and resource in another
  context keeps its decision.
- `carve_out`: a Deny minus exactly one request, as one copy of the Deny per way a request can differ
  from it (another action, another resource, another value of one of its context keys, a key it does not
  carry). The copies together deny what the Deny denied except that request, so nothing else is opened.

Request suites like CloudFix's hold such pairs: the same action and resource expected allowed under one
source IP or VPC and denied under another, or denied without the context key that an allowed twin has.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policies.model import ConditionClause, Policy, Statement
from policies.request import Request
from verifiers.iam.evaluate import statement_applies
from verifiers.iam.repair.edits import (
    Edit,
    absent_key_clauses,
    actions_except,
    apply_statements,
    canonical_action,
    context_clauses,
    exact_resource,
    has_principals,
    negated_clause,
    principal_for,
    replace_statement,
)

__all__ = ["carve_out", "pinned_deny"]


def _same_point(a: Request, b: Request) -> bool:
    return a.action.lower() == b.action.lower() and a.resource == b.resource and a.principal == b.principal


def _clauses_json(clauses: Sequence[ConditionClause]) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for c in clauses:
        out.setdefault(c.operator, {})[c.key] = list(c.values)
    return out


def pinned_deny(
    policy: Policy, request: Request, allows: Sequence[Request], why: str
) -> Iterator[tuple[Edit, Policy]]:
    """A Deny of the request's action on its resource under its context values only (nothing when the
    request carries no context and no must-allow twin carries any: the exact Deny is that already)."""
    twins = [r.context for r in allows if _same_point(r, request)]
    clauses = (
        *context_clauses(request.context, sorted(request.context)),
        *absent_key_clauses(request.context, twins),
    )
    if not clauses:
        return
    action = canonical_action(request.action)
    deny = Statement(
        effect="Deny",
        action=(action,),
        resource=(exact_resource(request.resource, policy.supports_variables),),
        principal=principal_for(None) if has_principals(policy) else None,
        condition=clauses,
    )
    yield (
        Edit(
            op="add_deny",
            detail={"action": deny.action, "resource": deny.resource, "condition": _clauses_json(clauses)},
            description=f"add a Deny of {action} on {request.resource} under the request's conditions ({why})",
        ),
        apply_statements(policy, [*policy.statements, deny]),
    )


def _other_actions(st: Statement, request: Request) -> Statement | None:
    """`st` limited to actions other than the request's (None when it names no other)."""
    action = canonical_action(request.action)
    if st.not_action is not None:
        return st.model_copy(update={"not_action": (*st.not_action, action)})
    assert st.action is not None
    narrowed = actions_except(st.action, request.action)
    return st.model_copy(update={"action": tuple(narrowed)}) if narrowed else None


def _other_resources(st: Statement, request: Request, variables: bool) -> Statement | None:
    """`st` limited to resources other than the request's, where IAM can say so (`NotResource`)."""
    point = exact_resource(request.resource, variables)
    if st.not_resource is not None:
        return st.model_copy(update={"not_resource": (*st.not_resource, point)})
    if st.resource == ("*",) and point != "*":
        return st.model_copy(update={"resource": None, "not_resource": (point,)})
    return None


def carve_out(
    policy: Policy, st: Statement, request: Request, denies: Sequence[Request], why: str
) -> Iterator[tuple[Edit, Policy]]:
    """Replace the Deny `st` by copies that deny everything it denied except `request`.

    A copy per difference: other actions, other resources (when `st` is on `*` or uses `NotResource`;
    other resource patterns cannot exclude one ARN), another value of each context key the request
    carries (a negated operator, which also holds where the key is missing), and the presence of each key
    that a must-deny request on the same point carries and the request does not. A difference IAM cannot
    state here is left out, so the copies may deny less; the concrete evaluator and the bound proof decide.
    """
    if st.effect != "Deny" or (st.action is None and st.not_action is None):
        return
    variables = policy.supports_variables
    copies = [c for c in (_other_actions(st, request), _other_resources(st, request, variables)) if c]
    for key, value in sorted(request.context.items()):
        if isinstance(value, str):
            copies.append(st.model_copy(update={"condition": (*st.condition, negated_clause(key, value))}))
    kept = [r.context for r in denies if _same_point(r, request) and statement_applies(st, r, variables)]
    for clause in absent_key_clauses(request.context, kept):
        present = clause.model_copy(update={"values": ("false",)})
        copies.append(st.model_copy(update={"condition": (*st.condition, present)}))
    if not copies:
        return
    copies = [copies[0], *(c.model_copy(update={"sid": None}) for c in copies[1:])]
    yield (
        Edit(
            op="exempt_request",
            statement=st.index,
            detail={"request": request.to_json(), "copies": len(copies)},
            description=f"{st.label}: deny everything it denied except this one request"
            + (f", as {len(copies)} statements" if len(copies) > 1 else "")
            + f" ({why})",
        ),
        replace_statement(policy, st.index, copies),
    )
