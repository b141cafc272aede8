"""The concrete evaluator: AWS's policy evaluation logic for one request, with the statements that matched.

Within a policy type, an explicit `Deny` beats any `Allow`, and without an `Allow` the request is
implicitly denied. Across types (AWS: "Policy evaluation logic"): any explicit deny wins; SCPs, a
permissions boundary and a session policy must each allow when present; in the same account an identity
allow or a resource-policy allow suffices, across accounts both are needed.
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
from verifiers.iam.semantics import action_glob, principal_globs, resource_pieces, value_glob

__all__ = [
    "Decision",
    "DecisionKind",
    "StatementMatch",
    "as_policy_set",
    "evaluate",
    "policy_decision",
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


def _principal_matches(statement: Statement, request: Request) -> bool:
    element = statement.principal or statement.not_principal
    if element is None:
        return True
    hit = any(matches(g, request.principal or "") for g in principal_globs(element))
    return hit if statement.principal is not None else not hit


def statement_applies(statement: Statement, request: Request, variables: bool) -> bool:
    """Whether a statement matches the request (action, resource, principal and every condition)."""
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
    elif statement.not_resource is not None and _resource_matches(statement.not_resource, request, variables):
        return False
    if not _principal_matches(statement, request):
        return False
    return all(clause_holds(c, request, variables) for c in statement.condition)


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
    allow = deny = False
    hits: list[StatementMatch] = []
    variables = policy.supports_variables
    for st in policy.statements:
        if statement_applies(st, request, variables):
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
            allow = allow or st.effect == "Allow"
            deny = deny or st.effect == "Deny"
    return allow, deny, hits


def as_policy_set(policies: Policy | Sequence[Policy] | PolicySet) -> PolicySet:
    if isinstance(policies, PolicySet):
        return policies
    if isinstance(policies, Policy):
        return PolicySet(identity=(policies,))
    return PolicySet(identity=tuple(policies))


_ACCOUNT_IN_ARN = re.compile(r"arn:[^:]*:[^:]*:[^:]*:(\d{12}):")


def _account(text: str | None) -> str | None:
    if not text:
        return None
    if re.fullmatch(r"\d{12}", text):
        return text
    m = _ACCOUNT_IN_ARN.match(text)
    return m.group(1) if m else None


def _same_account(request: Request) -> bool:
    mine = _account(request.principal)
    theirs = request.resource_account or _account(request.resource)
    return mine is None or theirs is None or mine == theirs


def evaluate(policies: Policy | Sequence[Policy] | PolicySet, request: Request) -> Decision:
    """Decide one request; a bare policy or a list of policies is taken as identity policies."""
    pset = as_policy_set(policies)
    hits: list[StatementMatch] = []
    allows: dict[str, list[bool]] = {}
    denied = False
    for kind, group in (
        ("identity", pset.identity),
        ("resource", pset.resource),
        ("boundary", pset.boundary),
        ("session", pset.session),
        ("scp", pset.scp),
    ):
        for i, policy in enumerate(group, 1):
            allow, deny, got = policy_decision(policy, request, kind, str(i))  # type: ignore[arg-type]
            hits.extend(got)
            denied = denied or deny
            allows.setdefault(kind, []).append(allow)
    if denied:
        return Decision(decision="ExplicitlyDenied", matched=tuple(hits), reason="an explicit Deny applies")
    identity = any(allows.get("identity", []))
    resource = any(allows.get("resource", []))
    gates = {
        "SCP": all(allows.get("scp", [])),
        "permissions boundary": any(allows.get("boundary", [True])),
        "session policy": any(allows.get("session", [True])),
    }
    if not gates["SCP"]:
        return Decision(decision="ImplicitlyDenied", matched=tuple(hits), reason="no SCP allow")
    identity_ok = identity and gates["permissions boundary"] and gates["session policy"]
    if pset.resource and not _same_account(request):
        allowed = identity_ok and resource
        reason = "cross-account: needs both an identity and a resource-policy allow"
    else:
        allowed = identity_ok or resource
        missing = [k for k in ("permissions boundary", "session policy") if not gates[k]]
        reason = f"no allow from the {missing[0]}" if identity and missing else "no statement allows it"
    if allowed:
        return Decision(decision="Allowed", matched=tuple(hits), reason="an Allow applies and no Deny")
    return Decision(decision="ImplicitlyDenied", matched=tuple(hits), reason=reason)
