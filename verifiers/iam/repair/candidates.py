"""Candidate edits for one fault: each is the policy after one edit operation, with the edit that made it.

The generator proposes; it does not judge. The search in `repair.py` keeps a candidate only when the
concrete evaluator says it fixes requests without breaking others, and the engine proves the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from policies.model import ConditionClause, Policy, Principal, Statement
from policies.request import Request
from verifiers.iam.evaluate import statement_applies
from verifiers.iam.globs import matches
from verifiers.iam.repair.edits import (
    Edit,
    EditOp,
    absent_key_clauses,
    action_hits,
    actions_except,
    apply_statements,
    canonical_action,
    context_clauses,
    equality_clause,
    exact_resource,
    has_principals,
    negated_clause,
    principal_for,
    replace_statement,
)
from verifiers.iam.repair.localize import Fault
from verifiers.iam.repair.points import carve_out, pinned_deny
from verifiers.iam.semantics import resource_pieces, value_glob

__all__ = ["Candidate", "fault_candidates", "least_privilege_candidates"]

Candidate = tuple[Edit, Policy]


def _rewrite(
    policy: Policy,
    st: Statement,
    new: Statement | None,
    op: EditOp,
    description: str,
    detail: dict[str, Any] | None = None,
) -> Candidate:
    """The edit `op` on `st`, with `policy` after it: `st` replaced by `new` (removed when None)."""
    edit = Edit(op=op, statement=st.index, detail=detail or {}, description=description)
    return edit, replace_statement(policy, st.index, [] if new is None else [new])


def _drop_action(policy: Policy, st: Statement, action: str, why: str) -> Iterator[Candidate]:
    """Remove or narrow the Action patterns of `st` that match `action` (or extend its NotAction)."""
    if st.not_action is not None:
        new = st.model_copy(update={"not_action": (*st.not_action, canonical_action(action))})
        yield _rewrite(
            policy,
            st,
            new,
            "narrow_action",
            f"{st.label}: add {canonical_action(action)} to NotAction ({why})",
            {"add_not_action": canonical_action(action)},
        )
        return
    assert st.action is not None
    hits = action_hits(st.action, action)
    rest = [p for p in st.action if p not in hits]
    if rest and any("*" not in p and "?" not in p for p in hits):
        new = st.model_copy(update={"action": tuple(rest)})
        yield _rewrite(
            policy,
            st,
            new,
            "remove_action",
            f"{st.label}: remove {', '.join(hits)} from Action ({why})",
            {"removed": hits},
        )
    if st.action == ("*",):
        new = st.model_copy(update={"action": None, "not_action": (canonical_action(action),)})
        yield _rewrite(
            policy,
            st,
            new,
            "narrow_action",
            f"{st.label}: narrow Action * to NotAction {canonical_action(action)} ({why})",
            {"from": "*", "to_not_action": [canonical_action(action)]},
        )
        return
    narrowed = actions_except(st.action, action)
    if narrowed and narrowed != list(st.action) and any("*" in p or "?" in p for p in hits):
        new = st.model_copy(update={"action": tuple(narrowed)})
        yield _rewrite(
            policy,
            st,
            new,
            "narrow_action",
            f"{st.label}: narrow {', '.join(hits)} to exclude {canonical_action(action)} ({why})",
            {"from": hits, "dropped": [canonical_action(action)]},
        )


def _served(policy: Policy, st: Statement, allows: Sequence[Request]) -> list[Request]:
    return [r for r in allows if statement_applies(st, r, policy.supports_variables)]


def _resource_hit(pattern: str, resource: str) -> bool:
    """The Resource pattern matches the resource (policy variables left unresolved match nothing)."""
    glob = value_glob(resource_pieces(pattern, False), lambda _p: None, wildcards=True, arn=True)
    return matches(glob, resource)


def _narrow_resource(
    policy: Policy, st: Statement, request: Request, allows: Sequence[Request]
) -> Iterator[Candidate]:
    if st.resource is None:
        if st.not_resource is not None:
            new = st.model_copy(update={"not_resource": (*st.not_resource, request.resource)})
            yield _rewrite(
                policy,
                st,
                new,
                "narrow_resource",
                f"{st.label}: add {request.resource} to NotResource",
                {"add_not_resource": request.resource},
            )
        return
    hits = [q for q in st.resource if _resource_hit(q, request.resource)]
    rest = [q for q in st.resource if q not in hits]
    served = _served(policy, st, allows)
    keep = sorted({r.resource for r in served if any(_resource_hit(q, r.resource) for q in hits)})
    keep = [exact_resource(k, policy.supports_variables) for k in keep if k != request.resource]
    if rest and not keep:
        new = st.model_copy(update={"resource": tuple(rest)})
        yield _rewrite(
            policy,
            st,
            new,
            "remove_resource",
            f"{st.label}: remove {', '.join(hits)} from Resource",
            {"removed": hits},
        )
    elif keep and any("*" in q or "?" in q for q in hits):
        new = st.model_copy(update={"resource": tuple(dict.fromkeys([*rest, *keep]))})
        yield _rewrite(
            policy,
            st,
            new,
            "narrow_resource",
            f"{st.label}: narrow {', '.join(hits)} to the resources the spec needs",
            {"from": hits, "to": keep},
        )


def _add_conditions(
    policy: Policy, st: Statement, request: Request, others: list[Request], suffix: str = ""
) -> Iterator[Candidate]:
    """Candidates that keep `st` but add a condition telling `request` apart from `others` (at most 3)."""
    for clause in _distinguishing(request, others)[:3]:
        new = st.model_copy(update={"condition": (*st.condition, clause)})
        yield _rewrite(
            policy,
            st,
            new,
            "add_condition",
            f"{st.label}: add condition {clause.operator} {clause.key} = {', '.join(clause.values)}{suffix}",
            {"condition": {clause.operator: {clause.key: list(clause.values)}}},
        )


def _distinguishing(bad: Request, good: Sequence[Request]) -> list[ConditionClause]:
    """Conditions every `good` request meets and `bad` does not (string-valued context keys)."""
    if not good:
        return []
    out = []
    keys = {k for k, v in good[0].context.items() if isinstance(v, str)}
    for key in sorted(keys):
        values = {r.context_value(key) for r in good}
        if any(not isinstance(v, str) for v in values):
            continue
        if bad.context_value(key) in values:
            continue
        ops = {equality_clause(key, v).operator for v in values if isinstance(v, str)}
        op = ops.pop() if len(ops) == 1 else "StringEquals"  # values not all of the key's type: compare text
        out.append(ConditionClause(operator=op, key=key, values=tuple(sorted(values))))  # type: ignore[arg-type]
    present = set.intersection(*({k.lower() for k in r.context} for r in good))
    for key in sorted(present - {k.lower() for k in bad.context}):
        name = next(k for k in good[0].context if k.lower() == key)
        out.append(ConditionClause(operator="Null", key=name, values=("false",)))
    return out


def _split(policy: Policy, st: Statement, request: Request, allows: Sequence[Request]) -> Iterator[Candidate]:
    """Move the Action patterns that match `request` into their own statement, limited to the needed resources."""
    if st.action is None or st.resource is None or len(st.action) < 2:
        return
    hits = action_hits(st.action, request.action)
    rest = [p for p in st.action if p not in hits]
    served = [r for r in _served(policy, st, allows) if action_hits(hits, r.action)]
    keep = [
        exact_resource(k, policy.supports_variables)
        for k in sorted({r.resource for r in served} - {request.resource})
    ]
    if not rest or not keep:
        return
    first = st.model_copy(update={"action": tuple(rest)})
    second = st.model_copy(update={"sid": None, "action": tuple(hits), "resource": tuple(keep)})
    yield (
        Edit(
            op="split_statement",
            statement=st.index,
            detail={"moved": hits, "resources": keep},
            description=f"{st.label}: split {', '.join(hits)} into a statement on the resources the spec needs",
        ),
        replace_statement(policy, st.index, [first], [second]),
    )


def _narrow_to_served_actions(
    policy: Policy, st: Statement, request: Request, served: Sequence[Request], why: str
) -> Iterator[Candidate]:
    """Action (or NotAction) narrowed to exactly the actions of the must-allow requests this statement serves."""
    kept = list(dict.fromkeys(canonical_action(r.action) for r in served))
    if not kept or request.action.lower() in {k.lower() for k in kept}:
        return
    if st.action is not None and sorted(a.lower() for a in st.action) == sorted(k.lower() for k in kept):
        return
    new = st.model_copy(update={"action": tuple(kept), "not_action": None})
    yield _rewrite(
        policy,
        st,
        new,
        "narrow_action",
        f"{st.label}: narrow Action to the actions the spec needs: {', '.join(kept)} ({why})",
        {"to": kept},
    )


def _narrow_principal(
    policy: Policy, st: Statement, request: Request, served: Sequence[Request]
) -> Iterator[Candidate]:
    """A `Principal` (often `*`) narrowed to the principals of the must-allow requests the statement serves."""
    principals = sorted({r.principal for r in served if r.principal})
    if (
        st.principal is None
        or not principals
        or request.principal in principals
        or len(principals) < len(served)
    ):
        return
    new = st.model_copy(update={"principal": Principal(values={"AWS": tuple(principals)})})
    yield _rewrite(
        policy,
        st,
        new,
        "narrow_principal",
        f"{st.label}: narrow Principal to {', '.join(principals)}",
        {"to": principals},
    )


def _wrongly_allowed(policy: Policy, fault: Fault, allows: Sequence[Request]) -> Iterator[Candidate]:
    request = fault.spec_request.request
    why = f"{fault.spec_request.label} must be denied"
    by_index = {s.index: s for s in policy.statements}
    for blame in fault.blame:
        st = by_index[blame.statement]
        served = _served(policy, st, allows)
        if not served:
            yield _rewrite(
                policy,
                st,
                None,
                "remove_statement",
                f"remove {st.label} ({why}; no must-allow request needs it)",
            )
        yield from _drop_action(policy, st, request.action, why)
        yield from _narrow_to_served_actions(policy, st, request, served, why)
        yield from _narrow_resource(policy, st, request, allows)
        yield from _split(policy, st, request, allows)
        yield from _narrow_principal(policy, st, request, served)
        yield from _add_conditions(policy, st, request, served)
    deny = Statement(
        effect="Deny",
        action=(canonical_action(request.action),),
        resource=(exact_resource(request.resource, policy.supports_variables),),
        principal=principal_for(None) if has_principals(policy) else None,
    )
    yield (
        Edit(
            op="add_deny",
            detail={"action": deny.action, "resource": deny.resource},
            description=f"add a Deny of {canonical_action(request.action)} on {request.resource} ({why})",
        ),
        apply_statements(policy, [*policy.statements, deny]),
    )
    yield from pinned_deny(policy, request, allows, why)


def _exempt_points(policy: Policy, st: Statement, allows: Sequence[Request], why: str) -> Iterator[Candidate]:
    """A Deny on `Resource` patterns becomes a Deny of the same actions on every resource but the must-allow
    ones (`NotResource`): it denies more elsewhere, never less, so nothing beyond the spec is opened. When
    its actions need different resources spared, it is split into one Deny per action pattern."""
    if st.resource is None or st.action is None:
        return
    variables = policy.supports_variables

    def spared(patterns: tuple[str, ...]) -> tuple[str, ...]:
        probe = st.model_copy(
            update={
                "action": patterns,
                "resource": None,
                "condition": (),
                "principal": None,
                "not_principal": None,
            }
        )
        points = sorted({r.resource for r in allows if statement_applies(probe, r, variables)})
        return tuple(exact_resource(p, variables) for p in points)

    whole = spared(st.action)
    if not whole:
        return
    per_action = [(p, spared((p,))) for p in st.action]
    if len(st.action) > 1 and any(points != whole for _, points in per_action):
        parts = [
            st.model_copy(
                update={"action": (p,), "resource": None, "not_resource": points}
                if points
                else {"action": (p,)}
            )
            for p, points in per_action
        ]
        yield (
            Edit(
                op="exempt_resource",
                statement=st.index,
                detail={"split": {p: list(points) for p, points in per_action}},
                description=f"{st.label}: split per action, each denied on every resource except the ones the spec needs ({why})",
            ),
            replace_statement(policy, st.index, parts),
        )
    new = st.model_copy(update={"resource": None, "not_resource": whole})
    yield _rewrite(
        policy,
        st,
        new,
        "exempt_resource",
        f"{st.label}: deny its actions on every resource except {', '.join(whole)} ({why})",
        {"not_resource": list(whole)},
    )


def _wrongly_denied(
    policy: Policy, fault: Fault, denies: Sequence[Request], allows: Sequence[Request]
) -> Iterator[Candidate]:
    request = fault.spec_request.request
    why = f"{fault.spec_request.label} must be allowed"
    by_index = {s.index: s for s in policy.statements}
    for blame in fault.blame:
        st = by_index[blame.statement]
        yield from _exempt_points(policy, st, allows, why)
        yield from carve_out(policy, st, request, denies, why)
        kept = [r for r in denies if statement_applies(st, r, policy.supports_variables)]
        yield from _add_conditions(
            policy, st, request, kept, suffix=f" so it keeps denying only what the spec denies ({why})"
        )
        yield _rewrite(policy, st, None, "remove_statement", f"remove {st.label} ({why})")
        for edit, cand in _drop_action(policy, st, request.action, why):
            yield edit.model_copy(update={"op": "exempt_action"}), cand
        for edit, cand in _narrow_resource(policy, st, request, kept):
            yield edit.model_copy(update={"op": "exempt_resource"}), cand
        for key, value in sorted(request.context.items()):
            if isinstance(value, str):
                clause = negated_clause(key, value)
                new = st.model_copy(update={"condition": (*st.condition, clause)})
                yield _rewrite(
                    policy,
                    st,
                    new,
                    "add_condition",
                    f"{st.label}: add condition {clause.operator} {key} = {value} ({why})",
                    {"condition": {clause.operator: {key: value}}},
                )


def _not_allowed(
    policy: Policy, fault: Fault, pending: Sequence[Request], denies: Sequence[Request]
) -> Iterator[Candidate]:
    """A minimal Allow: exactly the request; also one statement for every pending request with its action.
    Pinned to the request's context, it also requires the keys it lacks and a must-deny twin (same action
    and resource) carries to be missing."""
    request = fault.spec_request.request
    twins = [
        r.context
        for r in denies
        if r.action.lower() == request.action.lower() and r.resource == request.resource
    ]
    principal = principal_for(request.principal) if has_principals(policy) else None
    groups = [[request]]
    same_action = [
        r for r in pending if r.action.lower() == request.action.lower() and r.principal == request.principal
    ]
    if len(same_action) > 1:
        groups.append(same_action)
    for group in groups:
        resources = tuple(dict.fromkeys(exact_resource(r.resource, policy.supports_variables) for r in group))
        pinned = (
            (
                *context_clauses(request.context, sorted(request.context)),
                *absent_key_clauses(request.context, twins),
            )
            if len(group) == 1
            else ()
        )
        for clauses in ((), pinned) if pinned else ((),):
            st = Statement(
                effect="Allow",
                action=(canonical_action(request.action),),
                resource=resources,
                principal=principal,
                condition=clauses,
            )
            note = " under the request's conditions" if clauses else ""
            yield (
                Edit(
                    op="add_allow",
                    detail={"action": st.action, "resource": list(resources)},
                    description=f"add an Allow of {canonical_action(request.action)} on {', '.join(resources)}{note}",
                ),
                apply_statements(policy, [*policy.statements, st]),
            )


def fault_candidates(
    policy: Policy,
    fault: Fault,
    allows: Sequence[Request],
    pending: Sequence[Request],
    denies: Sequence[Request] = (),
) -> list[Candidate]:
    """Candidates for one fault; `allows`/`denies` are the spec's requests, `pending` those not allowed yet."""
    if fault.kind == "wrongly_allowed":
        return list(_wrongly_allowed(policy, fault, allows))
    if fault.kind == "wrongly_denied":
        return list(_wrongly_denied(policy, fault, denies, allows))
    return list(_not_allowed(policy, fault, pending, denies))


def least_privilege_candidates(policy: Policy, needed: Sequence[str]) -> list[Candidate]:
    """Narrow each Allow statement's actions to the needed ones it matches (one edit per statement)."""
    out: list[Candidate] = []
    wanted = {a.lower() for a in needed}
    for st in policy.statements:
        if st.effect != "Allow":
            continue
        probe = st.model_copy(
            update={
                "resource": None,
                "not_resource": None,
                "principal": None,
                "not_principal": None,
                "condition": (),
            }
        )
        kept = [canonical_action(a) for a in needed if statement_applies(probe, Request(action=a), False)]
        current = st.action or ()
        if kept and list(current) == kept:
            continue
        if not kept:
            out.append(
                _rewrite(policy, st, None, "remove_statement", f"remove {st.label} (allows no needed action)")
            )
            continue
        extra = set() if st.action is None else {p.lower() for p in st.action} - wanted
        if st.action is not None and not extra:
            continue
        new = st.model_copy(update={"action": tuple(kept), "not_action": None})
        out.append(
            _rewrite(
                policy,
                st,
                new,
                "narrow_action",
                f"{st.label}: narrow Action to the needed {', '.join(kept)}",
                {"to": kept},
            )
        )
    return out
