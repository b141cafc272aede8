"""The repairer's edit operations on a policy, each a small, named change with a readable description.

Operations: remove a statement; remove or narrow an action pattern (a wildcard becomes the smallest set
of prefix patterns that covers the catalog actions it matched, minus the ones to drop); remove or narrow
a resource pattern; split a statement; add a condition; add a Deny statement (exact, or pinned to the
request's context); add a minimal Allow statement; exempt an action, a resource or one request from a Deny.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from policies.catalog import load_catalog
from policies.model import ConditionClause, Policy, Principal, Statement
from policies.request import Request
from verifiers.iam.conditions import clause_holds
from verifiers.iam.globs import matches
from verifiers.iam.semantics import action_glob

__all__ = [
    "Edit",
    "EditOp",
    "absent_key_clauses",
    "action_cover",
    "action_hits",
    "actions_except",
    "apply_statements",
    "canonical_action",
    "condition_operator",
    "context_clauses",
    "equality_clause",
    "exact_resource",
    "has_principals",
    "negated_clause",
    "principal_for",
    "replace_statement",
    "statement_diff",
]

EditOp = Literal[
    "remove_statement",
    "remove_action",
    "narrow_action",
    "remove_resource",
    "narrow_resource",
    "narrow_principal",
    "split_statement",
    "add_condition",
    "add_deny",
    "add_allow",
    "exempt_action",
    "exempt_resource",
    "exempt_request",
    "rewrite_statement",
]

_OPERATOR_BY_TYPE = {
    "String": "StringEquals",
    "ARN": "ArnEquals",
    "Numeric": "NumericEquals",
    "Date": "DateEquals",
    "Bool": "Bool",
    "IPAddress": "IpAddress",
}


class Edit(BaseModel):
    model_config = ConfigDict(frozen=True)

    op: EditOp
    statement: int | None = None
    """The statement's index in the policy the edit was applied to (None for added statements)."""
    detail: dict[str, Any] = {}
    description: str

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "description": self.description}
        if self.statement is not None:
            out["statement"] = self.statement
        return out | self.detail


def apply_statements(policy: Policy, statements: Iterable[Statement]) -> Policy:
    """The policy with these statements, renumbered."""
    renumbered = tuple(s.model_copy(update={"index": i}) for i, s in enumerate(statements))
    return policy.model_copy(update={"statements": renumbered})


def replace_statement(
    policy: Policy, index: int, by: Sequence[Statement], extra: Sequence[Statement] = ()
) -> Policy:
    """The policy with statement `index` replaced in place by `by` (removed when empty) and `extra`
    appended, renumbered."""
    out: list[Statement] = []
    for s in policy.statements:
        out.extend(by if s.index == index else (s,))
    return apply_statements(policy, [*out, *extra])


def has_principals(policy: Policy) -> bool:
    """A resource policy (its statements name principals); added statements then need a Principal too."""
    return any(s.principal is not None or s.not_principal is not None for s in policy.statements)


def condition_operator(key: str) -> str:
    """The equality operator that fits a condition key's type in the catalog (StringEquals when unknown)."""
    kind = load_catalog().key_type(key) or "String"
    return _OPERATOR_BY_TYPE.get(kind.removesuffix("[]"), "StringEquals")


def _literal_prefix(pattern: str) -> tuple[str, bool]:
    """(text before the first wildcard, whether the only wildcard is one trailing `*`)."""
    cut = min((i for i, c in enumerate(pattern) if c in "*?"), default=len(pattern))
    return pattern[:cut], cut == len(pattern) - 1 and pattern.endswith("*")


def _trie_cover(prefix: str, keep: Sequence[str], dropped: set[str]) -> list[str]:
    lowered = prefix.lower()
    if not any(d.startswith(lowered) for d in dropped):
        return [prefix + "*"]
    out = [n for n in keep if n.lower() == lowered]
    groups: dict[str, list[str]] = {}
    for name in keep:
        if len(name) > len(prefix):
            groups.setdefault(name[len(prefix)].lower(), []).append(name)
    for _, group in sorted(groups.items()):
        out += _trie_cover(group[0][: len(prefix) + 1], group, dropped)
    return out


def action_cover(pattern: str, drop: Iterable[str]) -> list[str] | None:
    """Patterns matching what `pattern` matches in the catalog except `drop`; None when nothing is dropped.

    `s3:*` minus `s3:DeleteObject` becomes `s3:A*`, `s3:B*`, ..., `s3:DeleteObjectT*`, ...: every pattern
    extends the original's literal prefix, so the result matches nothing the original did not.
    """
    members = load_catalog().expand(pattern)
    dropped = {d.lower() for d in drop}
    keep = [m for m in members if m.lower() not in dropped]
    if len(keep) == len(members):
        return None
    prefix, trailing = _literal_prefix(pattern)
    if not trailing or not keep:
        return keep
    hit = {d for d in dropped if any(m.lower() == d for m in members)}
    return _trie_cover(prefix, keep, hit)


def action_hits(patterns: Sequence[str], action: str) -> list[str]:
    """The Action patterns that match `action`."""
    return [p for p in patterns if matches(action_glob(p), action.lower())]


def actions_except(patterns: Sequence[str], action: str) -> list[str]:
    """`patterns` minus `action`: the patterns that match it dropped, wildcards among them replaced by
    their catalog cover without it (empty when nothing else is left)."""
    hits = action_hits(patterns, action)
    narrowed = [p for p in patterns if p not in hits]
    for p in hits:
        if "*" in p or "?" in p:
            narrowed += action_cover(p, [action]) or []
    return list(dict.fromkeys(narrowed))


def principal_for(request_principal: str | None) -> Principal:
    if request_principal:
        return Principal(values={"AWS": (request_principal,)})
    return Principal(wildcard=True)


def context_clauses(context: dict[str, Any], keys: Iterable[str]) -> tuple[ConditionClause, ...]:
    out = []
    for key in keys:
        value = context.get(key)
        if isinstance(value, str):
            out.append(equality_clause(key, value))
    return tuple(out)


def equality_clause(key: str, value: str) -> ConditionClause:
    """A clause that holds exactly when `key` equals `value`: the operator of the key's catalog type, or
    `StringEquals` when the value is not of that type (an `ArnEquals` on "other-value" never holds)."""
    clause = ConditionClause(operator=condition_operator(key), key=key, values=(value,))
    if clause.operator != "StringEquals" and not clause_holds(
        clause, Request(action="", resource="*", context={key: value}), False
    ):
        return ConditionClause(operator="StringEquals", key=key, values=(value,))
    return clause


def negated_clause(key: str, value: str) -> ConditionClause:
    """A clause that holds when `key` is missing or differs from `value` (the negated equality operator)."""
    op = (
        equality_clause(key, value)
        .operator.replace("Equals", "NotEquals")
        .replace("Bool", "StringNotEquals")
        .replace("IpAddress", "NotIpAddress")
    )
    return ConditionClause(operator=op, key=key, values=(value,))


def absent_key_clauses(
    context: dict[str, Any], others: Iterable[dict[str, Any]]
) -> tuple[ConditionClause, ...]:
    """`Null: true` for each key some of the `others` contexts carry and `context` does not (case-insensitive),
    so that a statement pinned to `context` does not also match requests that add those keys."""
    have = {k.lower() for k in context}
    names: dict[str, str] = {}
    for other in others:
        for key in other:
            if key.lower() not in have:
                names.setdefault(key.lower(), key)
    return tuple(ConditionClause(operator="Null", key=names[k], values=("true",)) for k in sorted(names))


def canonical_action(action: str) -> str:
    """The catalog's spelling of an action name (the name itself when the catalog does not know it)."""
    info = load_catalog().action_info(action)
    return info[0] if info else action


def exact_resource(resource: str, variables: bool) -> str:
    """A Resource pattern that matches exactly this request resource (or as near as IAM allows).

    In a `2012-10-17` policy `$`, `*` and `?` are escaped (`${$}`, `${*}`, `${?}`) so the request's text is
    taken literally. A string that starts with `arn:` but has fewer than six parts is not a valid ARN, and
    IAM matches such a pattern only with a trailing `*`; that is the narrowest pattern that matches it.
    """
    if resource == "*":  # a request "on every resource" (actions without resource-level permissions)
        return "*"
    text = resource
    if variables:
        text = "".join({"$": "${$}", "*": "${*}", "?": "${?}"}.get(c, c) for c in resource)
    if resource.startswith("arn:") and resource.count(":") < 5:
        text += "*"
    return text


def statement_diff(before: Policy, after: Policy) -> list[Edit]:
    """Statement-level edits from one policy to another (for candidates that come whole, from a model)."""
    old = [json.dumps(s.to_json(), sort_keys=True) for s in before.statements]
    new = [json.dumps(s.to_json(), sort_keys=True) for s in after.statements]
    edits: list[Edit] = []
    unmatched_new = [i for i, text in enumerate(new) if text not in old]
    unmatched_old = [i for i, text in enumerate(old) if text not in new]
    for i, j in zip(unmatched_old, unmatched_new, strict=False):
        edits.append(
            Edit(
                op="rewrite_statement",
                statement=i,
                detail={"to": after.statements[j].to_json()},
                description=f"rewrite {before.statements[i].label}",
            )
        )
    for i in unmatched_old[len(unmatched_new) :]:
        edits.append(
            Edit(op="remove_statement", statement=i, description=f"remove {before.statements[i].label}")
        )
    for j in unmatched_new[len(unmatched_old) :]:
        st = after.statements[j]
        op: EditOp = "add_allow" if st.effect == "Allow" else "add_deny"
        edits.append(
            Edit(op=op, detail={"statement": st.to_json()}, description=f"add an {st.effect} statement")
        )
    return edits
