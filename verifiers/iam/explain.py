"""Explain a policy: what it allows and denies, as regions of actions × resources × conditions.

Each Allow statement is a region; the engine checks whether any request reaches it past the policy's
Deny statements (a region no request reaches is "shadowed"), and gives an example request when one does.
"""

from __future__ import annotations

from collections import Counter

import z3
from pydantic import BaseModel, ConfigDict

from policies.catalog import load_catalog
from policies.model import ConditionClause, Policy, Principal, Statement
from policies.request import Request
from verifiers.iam.budget import BudgetExceededError, remaining_ms, time_budget
from verifiers.iam.encode import encode_statement
from verifiers.iam.evaluate import statement_applies
from verifiers.iam.exclusive import exclusive
from verifiers.iam.semantics import resource_pieces, value_glob
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, solve
from verifiers.iam.space import Space
from verifiers.iam.witness import instantiate

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


def _prefixes(patterns: tuple[str, ...] | None, lower: bool) -> tuple[str, ...] | None:
    """The literal text each pattern's matches start with (None: the element is absent, or negated)."""
    if patterns is None:
        return None
    out = []
    for text in patterns:
        head = text.lower() if lower else text
        cut = min((i for i, c in enumerate(head) if c in "*?$"), default=len(head))
        out.append(head[:cut])
    return tuple(out)


def _compatible(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
    if a is None or b is None:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in a for y in b)


Shape = tuple[tuple[str, ...] | None, tuple[str, ...] | None]


def _shape(st: Statement) -> Shape:
    return _prefixes(st.action, True), _prefixes(st.resource, False)


def _may_overlap(allow: Shape, deny: Shape) -> bool:
    """False only when the two statements share no action or no resource string (literal prefixes that
    part ways): an exact filter, since a deny that matches none of the allow's requests is moot."""
    return _compatible(allow[0], deny[0]) and _compatible(allow[1], deny[1])


def _plain_example(st: Statement, variables: bool) -> Request | None:
    """A request an unconditional Allow of listed actions and resources applies to, without the solver
    (the evaluator confirms it); None for any other statement."""
    if st.action is None or st.resource is None or st.condition or st.principal or st.not_principal:
        return None
    action = next((a for p in st.action for a in load_catalog().expand(p)), None)
    if action is None:
        return None
    glob = value_glob(resource_pieces(st.resource[0], variables), lambda _p: None, wildcards=True, arn=True)
    example = Request(action=action, resource=instantiate(glob))
    return example if statement_applies(st, example, variables) else None


def _reachability(
    policy: Policy, st: Statement, denies: list[Statement], region: Region, timeout_ms: int
) -> Region:
    """The region with whether some request reaches it past these Denies (unchanged when the budget ran
    out). Only this statement and the denies: the other allows do not change whether it is reachable."""
    variables = policy.supports_variables
    try:
        space = Space().prepare([policy.model_copy(update={"statements": (st, *denies)})])
        deny = z3.Or(*[encode_statement(space, d, variables) for d in denies])
        formula = z3.And(encode_statement(space, st, variables), z3.Not(deny))
        result = solve(space, formula, timeout_ms=remaining_ms(timeout_ms))
    except BudgetExceededError:
        return region
    reachable = None if result.status == "unknown" else result.status == "sat"
    return region.model_copy(update={"reachable": reachable, "example": result.request})


@exclusive
def explain(policy: Policy, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Explanation:
    """Regions the policy allows and denies, each Allow checked for reachability past the Denies.

    `timeout_ms` bounds the whole explanation. Allows that no Deny can overlap and that need no solver
    are settled first; the others are solved in statement order while the budget lasts, and those left
    are marked undecided.
    """
    variables = policy.supports_variables
    deny_statements = [s for s in policy.statements if s.effect == "Deny"]
    deny_shapes = [_shape(d) for d in deny_statements]
    denies: list[Region] = []
    allows: list[Region] = []
    pending: list[tuple[int, Statement, list[Statement]]] = []
    with time_budget(timeout_ms):
        for st in policy.statements:
            region = _region(st)
            if st.effect == "Deny":
                denies.append(region)
                continue
            shape = _shape(st)
            relevant = [
                d for d, ds in zip(deny_statements, deny_shapes, strict=True) if _may_overlap(shape, ds)
            ]
            example = None if relevant else _plain_example(st, variables)
            if example is not None:
                region = region.model_copy(update={"reachable": True, "example": example})
            else:
                pending.append((len(allows), st, relevant))
            allows.append(region)
        for i, st, relevant in pending:
            if remaining_ms(timeout_ms) <= 0:
                break
            allows[i] = _reachability(policy, st, relevant, allows[i], timeout_ms)
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
