"""Name the AWS evaluation rule that decides a disagreement between our engine and a published label.

The labels come from tools with known gaps (negated operators on an absent key, `ForAllValues`,
`ForAnyValue`). For each disagreement we look at the statements involved (those the counterexample
matched, and those that differ between the two policies) and the request's context, and name the first
rule of AWS's documented evaluation logic that applies. It is a classification to guide a reader, who
has the counterexample and both concrete decisions beside it to check.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["RULES", "deciding_rule", "differing_statements"]

RULES: dict[str, str] = {
    "policy-variables-version": (
        "Policy variables such as ${aws:username} are substituted only in documents with Version 2012-10-17; "
        "without it they are literal text (AWS IAM User Guide, policy variables)."
    ),
    "version-only": (
        "The documents differ only in the Version element, which changes only how policy variables are "
        "read; with no variables they are the same policy."
    ),
    "negated-operator-absent-key": (
        "A negated condition operator (StringNotEquals, StringNotLike, ArnNotLike, NotIpAddress, ...) is true "
        "when the key is absent from the request (AWS IAM User Guide, condition operators)."
    ),
    "forallvalues-absent-key": (
        "ForAllValues is true when the request has no value for the key or an empty set "
        "(AWS IAM User Guide, multivalued context keys)."
    ),
    "foranyvalue-absent-key": "ForAnyValue is false when the key is absent from the request.",
    "ifexists-absent-key": "An ...IfExists operator is true when the key is absent from the request.",
    "positive-operator-absent-key": "A positive condition operator is false when the key is absent from the request.",
    "not-action": "NotAction matches every action except those listed (AWS IAM User Guide, NotAction).",
    "not-resource": "NotResource matches every resource except those listed (AWS IAM User Guide, NotResource).",
    "explicit-deny": "An explicit Deny overrides any Allow (AWS policy evaluation logic).",
    "condition-removed": "A statement without its Condition applies to requests the condition excluded.",
    "wildcard-match": (
        "`*` matches any run of characters and `?` one character; action names are case-insensitive, "
        "resource ARNs case-sensitive (AWS IAM User Guide, Action and Resource elements)."
    ),
}


def _statements(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    raw = doc.get("Statement", [])
    items = raw if isinstance(raw, list) else [raw]
    return [s for s in items if isinstance(s, dict)]


def _key(statement: dict[str, Any]) -> str:
    return json.dumps(statement, sort_keys=True)


def differing_statements(doc_a: Any, doc_b: Any) -> list[dict[str, Any]]:
    """Statements present in one policy and not (textually) in the other."""
    a = {_key(s): s for s in _statements(doc_a)}
    b = {_key(s): s for s in _statements(doc_b)}
    return [a[k] for k in a.keys() - b.keys()] + [b[k] for k in b.keys() - a.keys()]


def _clauses(statement: dict[str, Any]) -> list[tuple[str, str]]:
    cond = statement.get("Condition")
    if not isinstance(cond, dict):
        return []
    return [(op, key) for op, block in cond.items() if isinstance(block, dict) for key in block]


def _negated(op: str) -> bool:
    base = op.split(":")[-1].removesuffix("IfExists")
    return base.startswith(("StringNot", "ArnNot", "NotIp", "NumericNotEquals", "DateNotEquals"))


def deciding_rule(
    doc_a: Any,
    doc_b: Any,
    matched: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
) -> str:
    """The id of the first AWS rule (of `RULES`) that applies to the statements involved."""
    differing = differing_statements(doc_a, doc_b)
    involved = list(matched or []) + differing
    versions = {doc.get("Version") if isinstance(doc, dict) else None for doc in (doc_a, doc_b)}
    if len(versions) > 1 and "${" in json.dumps(involved):
        return "policy-variables-version"
    if not differing and len(versions) > 1:
        return "version-only"
    present = {k.lower() for k in (context or {})}
    for statement in involved:
        for op, key in _clauses(statement):
            absent = key.lower() not in present
            if op.startswith("ForAllValues:") and absent:
                return "forallvalues-absent-key"
            if op.startswith("ForAnyValue:") and absent:
                return "foranyvalue-absent-key"
            if op.endswith("IfExists") and absent:
                return "ifexists-absent-key"
            if _negated(op) and absent:
                return "negated-operator-absent-key"
    if any("NotAction" in s for s in involved):
        return "not-action"
    if any("NotResource" in s for s in involved):
        return "not-resource"
    if any(s.get("Effect") == "Deny" for s in involved):
        return "explicit-deny"
    if any(_clauses(s) for s in involved):
        if any(op for s in involved for op, key in _clauses(s) if key.lower() not in present):
            return "positive-operator-absent-key"
        return "condition-removed"
    return "wildcard-match"
