"""Explain a policy: what it allows and denies, as regions of actions × resources × conditions.

Each Allow statement is a region; the engine checks whether any request reaches it past the policy's
Deny statements (a region no request reaches is "shadowed"), and gives an example request when one does.
"""

from __future__ import annotations

import time
from collections import Counter

import z3
from pydantic import BaseModel, ConfigDict

from policies.catalog import load_catalog
from policies.model import ConditionClause, Policy, Principal, Statement
from policies.request import Request
from verifiers.iam.encode import encode_statement
from verifiers.iam.exclusive import exclusive
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, solve
from verifiers.iam.space import Space

__all__ = ["Explanation", "Region", "describe_condition", "explain"]

_PHRASES = {
    "StringEquals": "is",
    "StringNotEquals": "is not",
    "StringEqualsIgnoreCase": "is (any case)",
    "StringNotEqualsIgnoreCase": "is not (any case)",
    "StringLike": "matches",
    "StringNotLike": "does not match",
    "NumericEquals": "=",
    "NumericNotEquals": "≠",
    "NumericLessThan": "<",
    "NumericLessThanEquals": "≤",
    "NumericGreaterThan": ">",
    "NumericGreaterThanEquals": "≥",
    "DateEquals": "is",
    "DateNotEquals": "is not",
    "DateLessThan": "is before",
    "DateLessThanEquals": "is at or before",
    "DateGreaterThan": "is after",
    "DateGreaterThanEquals": "is at or after",
    "Bool": "is",
    "BinaryEquals": "is",
    "IpAddress": "is in",
    "NotIpAddress": "is not in",
    "ArnEquals": "is",
    "ArnNotEquals": "is not",
    "ArnLike": "matches",
    "ArnNotLike": "does not match",
}


class Region(BaseModel):
    model_config = ConfigDict(frozen=True)

    statement: int
    sid: str | None
    effect: str
    actions: str
    resources: str
    principals: str | None
    conditions: tuple[str, ...]
    action_count: int | None
    """How many catalog actions the Action/NotAction element covers."""
    access_levels: dict[str, int]
    reachable: bool | None = None
    """Allow regions: some request is allowed through it (None: the solver could not tell)."""
    example: Request | None = None

    def text(self) -> str:
        head = f"Statement[{self.statement}]" + (f" ({self.sid})" if self.sid else "")
        verb = "allows" if self.effect == "Allow" else "denies"
        count = (
            f" ({self.action_count} known actions: {_levels(self.access_levels)})"
            if self.action_count
            else ""
        )
        lines = [f"{head} {verb} {self.actions}{count}", f"    on {self.resources}"]
        if self.principals:
            lines.append(f"    for {self.principals}")
        lines.extend(f"    when {c}" for c in self.conditions)
        if self.reachable is False:
            lines.append("    but no request reaches it: the Deny statements cover it entirely")
        elif self.reachable is None and self.effect == "Allow":
            lines.append("    (the solver could not decide whether a request reaches it)")
        return "\n".join(lines)


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    allows: tuple[Region, ...]
    denies: tuple[Region, ...]
    allows_anything: bool | None
    text: str


def _levels(levels: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(levels.items(), key=lambda kv: -kv[1]))


def _principal_text(p: Principal) -> str:
    if p.wildcard:
        return "everyone (*)"
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in p.values.items())


def describe_condition(c: ConditionClause) -> str:
    op = c.op
    if op.family == "Null":
        present = all(v.lower() == "false" for v in c.values)
        return f"{c.key} is {'present' if present else 'absent'}"
    values = c.values[0] if len(c.values) == 1 else "any of [" + ", ".join(c.values) + "]"
    phrase = _PHRASES.get(op.base, op.base)
    if op.negated and len(c.values) > 1:
        values = "none of [" + ", ".join(c.values) + "]"
        phrase = _PHRASES.get(op.positive_base, op.base)
    subject = c.key
    if op.qualifier == "ForAllValues":
        subject = f"every value of {c.key} (true when absent)"
    elif op.qualifier == "ForAnyValue":
        subject = f"some value of {c.key}"
    tail = " (or the key is absent)" if op.if_exists or (op.negated and not op.qualifier) else ""
    return f"{subject} {phrase} {values}{tail}"


def _region(st: Statement) -> Region:
    catalog = load_catalog()
    patterns = st.action if st.action is not None else st.not_action or ()
    covered = {a for p in patterns for a in catalog.expand(p)}
    if st.not_action is not None:
        covered = set(catalog.all_actions) - covered
    levels = Counter(info[1] for a in covered if (info := catalog.action_info(a)))
    actions = (
        ", ".join(st.action)
        if st.action is not None
        else "every action except " + ", ".join(st.not_action or ())
    )
    if st.resource is not None:
        resources = ", ".join(st.resource)
    elif st.not_resource is not None:
        resources = "every resource except " + ", ".join(st.not_resource)
    else:
        resources = "any resource"
    principals = None
    if st.principal:
        principals = _principal_text(st.principal)
    elif st.not_principal:
        principals = "everyone except " + _principal_text(st.not_principal)
    return Region(
        statement=st.index,
        sid=st.sid,
        effect=st.effect,
        actions=actions,
        resources=resources,
        principals=principals,
        conditions=tuple(describe_condition(c) for c in st.condition),
        action_count=len(covered) or None,
        access_levels=dict(levels),
    )


@exclusive
def explain(policy: Policy, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Explanation:
    """Regions the policy allows and denies, each Allow checked for reachability past the Denies.

    `timeout_ms` bounds the whole explanation; regions left when it runs out are marked undecided.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    allows, denies = [], []
    deny_statements = [s for s in policy.statements if s.effect == "Deny"]
    variables = policy.supports_variables
    for st in policy.statements:
        region = _region(st)
        if st.effect == "Deny":
            denies.append(region)
            continue
        remaining = int((deadline - time.monotonic()) * 1000)
        if remaining <= 0:
            allows.append(region)
            continue
        # Only this statement and the denies: the other allows do not change whether it is reachable.
        space = Space().prepare([policy.model_copy(update={"statements": (st, *deny_statements)})])
        deny = z3.Or(*[encode_statement(space, d, variables) for d in deny_statements])
        formula = z3.And(encode_statement(space, st, variables), z3.Not(deny))
        result = solve(space, formula, timeout_ms=remaining)
        reachable = None if result.status == "unknown" else result.status == "sat"
        allows.append(region.model_copy(update={"reachable": reachable, "example": result.request}))
    anything = (
        False
        if not allows
        else (
            True
            if any(r.reachable for r in allows)
            else None
            if any(r.reachable is None for r in allows)
            else False
        )
    )
    lines = [f"This policy has {len(allows)} Allow and {len(denies)} Deny statement(s)."]
    if anything is False:
        lines.append("It allows nothing: every request is denied.")
    lines.extend(r.text() for r in allows)
    if denies:
        lines.append("Explicit denies (they win over any Allow):")
        lines.extend(r.text() for r in denies)
    lines.append("Everything else is implicitly denied.")
    return Explanation(
        allows=tuple(allows), denies=tuple(denies), allows_anything=anything, text="\n".join(lines)
    )
