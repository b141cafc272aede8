"""Lint of `Condition` blocks: keys that do not exist or that the statement's actions never send, values
of the wrong type, operators on keys of another type or arity, and policy variables where AWS does not
substitute them (IAM User Guide, "Condition operators", "Single-valued vs. multivalued context keys",
"Policy variables": variables work in string and ARN operators only)."""

from __future__ import annotations

from policies.catalog import load_catalog
from policies.model import ConditionClause, Statement
from policies.variables import has_variables, split_pattern
from verifiers.iam.lint.findings import Context
from verifiers.iam.values import parse_bool, parse_date, parse_network, parse_number

__all__ = ["check_conditions"]

_COMPATIBLE = {
    "String": {"String", "ARN"},
    "Arn": {"ARN", "String"},
    "Numeric": {"Numeric"},
    "Date": {"Date", "Numeric"},
    "Bool": {"Bool"},
    "IpAddress": {"IPAddress"},
    "Binary": {"Binary", "String"},
}
_PARSERS = {"Numeric": parse_number, "Date": parse_date, "Bool": parse_bool, "IpAddress": parse_network}
_TAG_KEYS = ("aws:resourcetag/", "aws:requesttag/", "aws:tagkeys")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def check_conditions(ctx: Context, st: Statement, base: str) -> None:
    null_keys = {c.key.lower() for c in st.condition if c.op.family == "Null"}
    for clause in st.condition:
        where = f"{base}/Condition/{_escape(clause.operator)}/{_escape(clause.key)}"
        _values(ctx, clause, where)
        kind = load_catalog().key_type(clause.key)
        if kind is None:
            _unknown_key(ctx, clause, where)
            continue
        _supported(ctx, st, clause, where)
        _types(ctx, st, clause, where, kind, null_keys)


def _values(ctx: Context, clause: ConditionClause, where: str) -> None:
    op = clause.op
    if op.family == "Null":
        bad = [v for v in clause.values if v.lower() not in ("true", "false")]
        if bad:
            ctx.add(
                "error", "INVALID_CONDITION_DATA_TYPE", where, f"Null takes true or false, not {bad[0]!r}"
            )
        return
    variables = [v for v in clause.values if has_variables(split_pattern(v, True))]
    if variables and op.family not in ("String", "Arn"):
        ctx.add(
            "error",
            "INVALID_VARIABLE_FOR_OPERATOR",
            where,
            f"{op.base} does not substitute policy variables ({variables[0]!r} is compared as text); "
            "only String and ARN operators do",
        )
    parse = _PARSERS.get(op.family)
    if parse is not None:
        bad = [v for v in clause.values if "${" not in v and parse(v) is None]
        if bad:
            ctx.add(
                "error",
                "INVALID_CONDITION_DATA_TYPE",
                where,
                f"{bad[0]!r} is not a valid {op.family} value; this value never matches",
            )
    if op.base == "Bool" and len(clause.values) > 1:
        ctx.add("error", "INVALID_CONDITION_MULTIPLE_BOOLEAN", where, "Bool takes one value, true or false")
    if op.positive_base in ("StringEquals", "ArnEquals") and any(
        c in v for v in clause.values for c in "*?" if "${" not in v
    ):
        like = op.name.replace("Equals", "Like")
        ctx.add(
            "warning",
            "WILDCARD_WITHOUT_LIKE_OPERATOR",
            where,
            f"{op.name} compares * and ? as characters; use {like} for wildcards",
        )


def _unknown_key(ctx: Context, clause: ConditionClause, where: str) -> None:
    key = clause.key
    if ":" not in key:
        ctx.add(
            "error", "INVALID_CONDITION_KEY_FORMAT", where, f"{key!r} is not a condition key (service:name)"
        )
    elif key.lower().startswith("aws:"):
        ctx.add("error", "INVALID_GLOBAL_CONDITION_KEY", where, f"{key!r} is not an AWS global condition key")
    else:
        ctx.add("error", "INVALID_SERVICE_CONDITION_KEY", where, f"unknown condition key {key!r}")


def _supported(ctx: Context, st: Statement, clause: ConditionClause, where: str) -> None:
    """A service key (or a tag key) that none of the statement's actions sends is never in the request."""
    key = clause.key.lower()
    tag = key.startswith(_TAG_KEYS)
    if (key.startswith("aws:") and not tag) or st.action is None or any(a in ("*", "*:*") for a in st.action):
        return
    catalog = load_catalog()
    actions = [a for p in st.action for a in catalog.expand(p)]
    if not actions or len(actions) > 300 or any(catalog.supports_key(a, clause.key) for a in actions):
        return
    names = actions[0] if len(actions) == 1 else f"any of the {len(actions)} actions"
    if not tag:
        ctx.add(
            "warning",
            "UNSUPPORTED_CONDITION_KEY_FOR_ACTIONS",
            where,
            f"{clause.key} is not a key {names} supports: it is absent from their requests",
        )
    elif st.effect == "Deny":
        ctx.add(
            "security_warning",
            "DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
            where,
            f"{clause.key} is not sent with {names}: this Deny's condition is decided on a missing key",
        )
    else:
        ctx.add(
            "suggestion",
            "ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
            where,
            f"{clause.key} is not sent with {names}: this Allow's condition is decided on a missing key",
        )


def _types(
    ctx: Context, st: Statement, clause: ConditionClause, where: str, kind: str, null_keys: set[str]
) -> None:
    op = clause.op
    base_type, multi = kind.removesuffix("[]"), kind.endswith("[]")
    key = clause.key
    if op.family == "Null":
        return
    if base_type not in _COMPATIBLE.get(op.family, {base_type}):
        ctx.add(
            "warning",
            "TYPE_MISMATCH",
            where,
            f"{op.base} on {key}, a key of type {base_type}: use a {base_type} operator",
        )
    if multi and not op.qualifier:
        ctx.add(
            "error",
            "MISSING_QUALIFIER",
            where,
            f"{key} is multivalued: without ForAllValues/ForAnyValue the condition is false whenever it is present",
        )
    if not multi and op.qualifier == "ForAllValues":
        ctx.add(
            "security_warning",
            "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
            where,
            f"ForAllValues on {key}, a single-valued key: it is also true when the key is absent",
        )
    elif not multi and op.qualifier:
        ctx.add(
            "warning",
            "FORANYVALUE_WITH_SINGLE_VALUED_KEY",
            where,
            f"{op.qualifier} on {key}, a single-valued key",
        )
    if op.qualifier == "ForAllValues" and st.effect == "Allow" and key.lower() not in null_keys and multi:
        ctx.add(
            "security_warning",
            "ALLOW_FORALLVALUES_WITHOUT_NULL",
            where,
            f"ForAllValues on an Allow is true when {key} is absent or empty; add a Null condition on it",
        )
