"""The concrete evaluator: AWS's policy evaluation logic for one request, with the statements that matched.

Within a policy type, an explicit `Deny` beats any `Allow`, and without an `Allow` the request is
implicitly denied. Across types (AWS: "Policy evaluation logic"): any explicit deny wins; SCPs, a
permissions boundary and a session policy must each allow when present. In the same account an identity
allow suffices, and so does a resource-policy allow that names the principal directly (its ARN, or `*`);
one that names the principal's role (the request comes from a session of it) is still limited by the
boundary and the session policy, and one that names only the account delegates to the account, so the
identity policy must allow too. Across accounts the identity policy and the resource policy must both
allow (with no resource policy, nothing crosses). A principal or resource whose account is unknown
(no principal, an S3 ARN without `resource_account`) counts as the same account.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from policies.model import Policy, PolicySet, Statement
from policies.request import Request
from policies.variables import has_variables
from verifiers.iam.conditions import clause_holds, request_resolver
from verifiers.iam.globs import Glob, matches
from verifiers.iam.semantics import (
    PrincipalKind,
    action_glob,
    principal_matchers,
    resource_pieces,
    value_glob,
)

__all__ = [
    "Decision",
    "DecisionKind",
    "StatementMatch",
    "account_id",
    "as_policy_set",
    "evaluate",
    "missing_keys",
    "policy_decision",
    "principal_kinds",
    "same_account",
    "statement_applies",
    "why_applies",
]

DecisionKind = Literal["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"]
PolicyKind = Literal["identity", "resource", "boundary", "session", "scp"]


class StatementMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    policy: str
    policy_type: PolicyKind
    statement: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    why: str = ""
    """Which pattern of each element matched, and the conditions that held."""

    def describe(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        return f"{self.policy_type} policy {self.policy}: Statement[{self.statement}]{sid} {self.effect}"


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: DecisionKind
    matched: tuple[StatementMatch, ...] = ()
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"


@cache
def _action_globs(patterns: tuple[str, ...]) -> tuple[Glob, ...]:
    return tuple(action_glob(p) for p in patterns)


@cache
def _static_resource_glob(text: str, variables: bool) -> Glob | None:
    pieces = resource_pieces(text, variables)
    if has_variables(pieces):
        return None
    return value_glob(pieces, lambda _p: None, wildcards=True, arn=True)


def _resource_matches(patterns: tuple[str, ...], request: Request, variables: bool) -> bool:
    for text in patterns:
        glob = _static_resource_glob(text, variables)
        if glob is None:
            glob = value_glob(
                resource_pieces(text, variables), request_resolver(request), wildcards=True, arn=True
            )
        if matches(glob, request.resource):
            return True
    return False


def _resolvable(patterns: tuple[str, ...], request: Request, variables: bool) -> bool:
    """Every policy variable in these patterns has a value (or a default) in the request."""
    resolve = request_resolver(request)
    return all(
        resolve(piece) is not None
        for text in patterns
        if _static_resource_glob(text, variables) is None
        for piece in resource_pieces(text, variables)
        if piece.kind == "var"
    )


_DIRECT: frozenset[PrincipalKind] = frozenset({"direct"})


def principal_kinds(statement: Statement, request: Request) -> frozenset[PrincipalKind]:
    """How the statement's Principal/NotPrincipal matches the request's principal (empty: it does not).
    A statement without either element matches as "direct"; so does a NotPrincipal that excludes it."""
    element = statement.principal or statement.not_principal
    if element is None:
        return _DIRECT
    principal = request.principal or ""
    kinds = frozenset(k for k, g in principal_matchers(element) if matches(g, principal))
    if statement.principal is not None:
        return kinds
    return frozenset() if kinds else _DIRECT


def statement_applies(statement: Statement, request: Request, variables: bool) -> bool:
    """Whether a statement matches the request (action, resource, principal and every condition).

    A policy variable that cannot be resolved makes its `Resource` pattern match nothing, and makes a
    `NotResource` element not match at all: the statement is invalid for the request, Allow and Deny alike.
    """
    return _applies(statement, request, variables) and bool(principal_kinds(statement, request))


def _applies(statement: Statement, request: Request, variables: bool) -> bool:
    """Everything but the principal."""
    action = request.action.lower()
    if statement.action is not None:
        if not any(matches(g, action) for g in _action_globs(statement.action)):
            return False
    elif statement.not_action is not None and any(
        matches(g, action) for g in _action_globs(statement.not_action)
    ):
        return False
    if statement.resource is not None:
        if not _resource_matches(statement.resource, request, variables):
            return False
    elif statement.not_resource is not None and (
        not _resolvable(statement.not_resource, request, variables)
        or _resource_matches(statement.not_resource, request, variables)
    ):
        return False
    return all(clause_holds(c, request, variables) for c in statement.condition)


def missing_keys(policies: Policy | Sequence[Policy] | PolicySet, request: Request) -> dict[str, list[str]]:
    """The condition keys (and policy-variable keys) the policies consult for this request that the
    request does not supply, each with the statements that consult it: those whose action, resource
    pattern and principal match, so that their conditions decided whether they apply. An absent key is
    why many decisions come out as they do (a negated operator holds, a positive one fails)."""
    pset = as_policy_set(policies)
    supplied = {k.lower() for k in request.context}
    out: dict[str, list[str]] = {}
    action = request.action.lower()
    for kind, group in (
        ("identity", pset.identity),
        ("resource", pset.resource),
        ("boundary", pset.boundary),
        ("session", pset.session),
        ("scp", pset.scp),
    ):
        for i, policy in enumerate(group, 1):
            variables = policy.supports_variables
            for st in policy.statements:
                if not _action_matches(st, action) or not principal_kinds(st, request):
                    continue
                keys = [c.key for c in st.condition]
                patterns = (*(st.resource or ()), *(st.not_resource or ()))
                keys += [p.text for t in patterns for p in resource_pieces(t, variables) if p.kind == "var"]
                for key in keys:
                    if key.lower() not in supplied and ":" in key:
                        where = f"{kind} policy {policy.source or i}: {st.label}"
                        out.setdefault(key, [])
                        if where not in out[key]:
                            out[key].append(where)
    return out


def _action_matches(statement: Statement, action: str) -> bool:
    if statement.action is not None:
        return any(matches(g, action) for g in _action_globs(statement.action))
    return not any(matches(g, action) for g in _action_globs(statement.not_action or ()))


def why_applies(statement: Statement, request: Request, variables: bool) -> str:
    """For a statement that applies: the action and resource patterns that matched, and the conditions."""
    action = request.action.lower()
    parts = []
    if statement.action is not None:
        hit = next(
            (
                p
                for p, g in zip(statement.action, _action_globs(statement.action), strict=True)
                if matches(g, action)
            ),
            "",
        )
        parts.append(f"action matches {hit}")
    else:
        parts.append("action is not in NotAction")
    if statement.resource is not None:
        hit = next((r for r in statement.resource if _resource_matches((r,), request, variables)), "")
        parts.append(f"resource matches {hit}")
    elif statement.not_resource is not None:
        parts.append("resource is not in NotResource")
    if statement.principal is not None or statement.not_principal is not None:
        parts.append(
            "principal matches" if statement.principal is not None else "principal is not in NotPrincipal"
        )
    parts.extend(f"{c.operator} {c.key} holds" for c in statement.condition)
    return "; ".join(parts)


def policy_decision(
    policy: Policy, request: Request, kind: PolicyKind = "identity", name: str = "1"
) -> tuple[bool, bool, list[StatementMatch]]:
    """(some Allow applies, some Deny applies, the applying statements) for one policy."""
    allow_kinds, deny, hits = _policy_parts(policy, request, kind, name)
    return bool(allow_kinds), deny, hits


def _policy_parts(
    policy: Policy, request: Request, kind: PolicyKind, name: str, boundary: bool = False
) -> tuple[frozenset[PrincipalKind], bool, list[StatementMatch]]:
    """(how the applying Allow statements matched the principal, some Deny applies, the applying statements).

    `boundary`: the principal has a permissions boundary, so a resource policy's Deny with NotPrincipal
    applies to it whatever the NotPrincipal lists (AWS JSON policy elements: NotPrincipal)."""
    allow: frozenset[PrincipalKind] = frozenset()
    deny = False
    hits: list[StatementMatch] = []
    variables = policy.supports_variables
    for st in policy.statements:
        if boundary and st.effect == "Deny" and st.not_principal is not None:
            kinds = _DIRECT
        else:
            kinds = principal_kinds(st, request)
        if kinds and _applies(st, request, variables):
            hits.append(
                StatementMatch(
                    policy=policy.source or name,
                    policy_type=kind,
                    statement=st.index,
                    sid=st.sid,
                    effect=st.effect,
                    why=why_applies(st, request, variables),
                )
            )
            if st.effect == "Allow":
                allow |= kinds
            else:
                deny = True
    return allow, deny, hits


def as_policy_set(policies: Policy | Sequence[Policy] | PolicySet) -> PolicySet:
    if isinstance(policies, PolicySet):
        return policies
    if isinstance(policies, Policy):
        return PolicySet(identity=(policies,))
    return PolicySet(identity=tuple(policies))


_ACCOUNT_IN_ARN = re.compile(r"arn:[^:]*:[^:]*:[^:]*:(\d{12}):")


def account_id(text: str | None) -> str | None:
    """The account a principal or resource string names: a bare 12-digit id, or an ARN's account segment."""
    if not text:
        return None
    if re.fullmatch(r"\d{12}", text):
        return text
    m = _ACCOUNT_IN_ARN.match(text)
    return m.group(1) if m else None


def same_account(request: Request) -> bool:
    """The principal and the resource belong to the same account, or either account is unknown."""
    mine = account_id(request.principal)
    theirs = request.resource_account or account_id(request.resource)
    return mine is None or theirs is None or mine == theirs


def evaluate(policies: Policy | Sequence[Policy] | PolicySet, request: Request) -> Decision:
    """Decide one request; a bare policy or a list of policies is taken as identity policies."""
    pset = as_policy_set(policies)
    hits: list[StatementMatch] = []
    allows: dict[str, list[frozenset[PrincipalKind]]] = {}
    denied = False
    for kind, group in (
        ("identity", pset.identity),
        ("resource", pset.resource),
        ("boundary", pset.boundary),
        ("session", pset.session),
        ("scp", pset.scp),
    ):
        for i, policy in enumerate(group, 1):
            bounded = kind == "resource" and bool(pset.boundary)
            allow, deny, got = _policy_parts(policy, request, kind, str(i), bounded)  # type: ignore[arg-type]
            hits.extend(got)
            denied = denied or deny
            allows.setdefault(kind, []).append(allow)
    if denied:
        return Decision(decision="ExplicitlyDenied", matched=tuple(hits), reason="an explicit Deny applies")
    if not all(allows.get("scp", [])):
        return Decision(decision="ImplicitlyDenied", matched=tuple(hits), reason="no SCP allow")
    identity = any(allows.get("identity", []))
    boundary = any(allows.get("boundary", [frozenset({"direct"})]))
    session = any(allows.get("session", [frozenset({"direct"})]))
    resource: frozenset[PrincipalKind] = frozenset().union(*allows.get("resource", []))
    identity_ok = identity and boundary and session
    if same_account(request):
        allowed = identity_ok or "direct" in resource or ("role" in resource and boundary and session)
        reason = _same_account_reason(identity, boundary, session, resource)
    else:
        allowed = identity_ok and bool(resource)
        reason = "cross-account: needs both an identity-policy allow and a resource-policy allow"
    if allowed:
        return Decision(decision="Allowed", matched=tuple(hits), reason="an Allow applies and no Deny")
    return Decision(decision="ImplicitlyDenied", matched=tuple(hits), reason=reason)


def _same_account_reason(
    identity: bool, boundary: bool, session: bool, resource: frozenset[PrincipalKind]
) -> str:
    missing = [
        name for name, ok in (("permissions boundary", boundary), ("session policy", session)) if not ok
    ]
    if (identity or "role" in resource) and missing:
        return f"no allow from the {missing[0]}"
    if "account" in resource:
        return "the resource policy allows the account, so an identity-policy allow is needed too"
    return "no statement allows it"
