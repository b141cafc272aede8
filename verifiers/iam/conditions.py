"""Concrete evaluation of condition clauses (AWS: "IAM JSON policy elements: Condition operators").

Rules (each is tested in tests/iam/test_conditions.py):
- Several values of one key in a clause are ORed; under a negated operator the clause holds when the
  request value matches none of them (NOR).
- A missing key makes a positive operator false and a negated one true; `...IfExists` makes any operator
  true on a missing key; `Null` tests presence.
- `ForAllValues` holds on a missing key or an empty data set (an empty list, or values that are all the
  empty string), and when every request value satisfies the operator; `ForAnyValue` needs one value that
  does. An empty-string value is not data for either. Without a qualifier, a multivalued key makes the
  operator false.
- A request value that does not parse as the operator's type (number, date, IP, bool, ARN) makes the
  operator false, negated or not; so does a policy value that does not parse, or a policy variable that
  cannot be resolved, under a negated operator.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import cache

from policies.model import ConditionClause
from policies.operators import Operator
from policies.request import Request
from policies.variables import Piece, has_variables
from verifiers.iam.globs import ARN_SHAPE, NEVER, Glob, matches
from verifiers.iam.semantics import value_glob, value_pieces
from verifiers.iam.values import parse_bool, parse_date, parse_ip, parse_network, parse_number

__all__ = ["clause_holds", "data_set", "request_resolver", "string_glob"]


def request_resolver(request: Request) -> Callable[[Piece], str | None]:
    def resolve(piece: Piece) -> str | None:
        value = request.context_value(piece.text)
        if isinstance(value, str):
            return value
        return piece.default if value is None else None  # a multivalued key cannot be substituted

    return resolve


def string_glob(op: Operator, pieces: tuple[Piece, ...], resolve: Callable[[Piece], str | None]) -> Glob:
    """The glob a string-like operator's policy value matches (String*, Arn*, Bool, Binary)."""
    base = op.positive_base
    if base == "Bool":
        glob = value_glob(pieces, resolve, wildcards=False, ignore_case=True)
        return glob if glob.never or parse_bool(glob.text) is not None else NEVER
    if op.family == "Arn":
        return value_glob(pieces, resolve, wildcards=True, arn=True)
    return value_glob(
        pieces, resolve, wildcards=base == "StringLike", ignore_case=base == "StringEqualsIgnoreCase"
    )


@cache
def _pieces(text: str, variables: bool) -> tuple[Piece, ...]:
    return value_pieces(text, variables)


def _compare(base: str, x: Fraction, y: Fraction) -> bool:
    if base.endswith("Equals") and not base.endswith("ThanEquals"):
        return x == y
    if base.endswith("LessThanEquals"):
        return x <= y
    if base.endswith("LessThan"):
        return x < y
    if base.endswith("GreaterThanEquals"):
        return x >= y
    return x > y


def _value_results(
    op: Operator, clause: ConditionClause, value: str, request: Request, variables: bool
) -> tuple[bool, list[bool]]:
    """(request value is valid for the operator, per policy value: (valid and matching))."""
    family = op.family
    if family in ("Numeric", "Date"):
        parse = parse_number if family == "Numeric" else parse_date
        got = parse(value)
        base = op.positive_base
        return got is not None, [
            p is not None and got is not None and _compare(base, got, p) for p in map(parse, clause.values)
        ]
    if family == "IpAddress":
        ip = parse_ip(value)
        nets = [parse_network(v) for v in clause.values]
        return ip is not None, [
            n is not None and ip is not None and ip.version == n.version and ip in n for n in nets
        ]
    valid = True
    if family == "Bool":
        valid = parse_bool(value) is not None
    elif family == "Arn":
        valid = matches(ARN_SHAPE, value)
    resolve = request_resolver(request)
    out = []
    for text in clause.values:
        pieces = _pieces(text, variables)
        glob = string_glob(op, pieces, resolve) if has_variables(pieces) else _static_glob(op, pieces)
        out.append(matches(glob, value))
    return valid, out


@cache
def _static_glob(op: Operator, pieces: tuple[Piece, ...]) -> Glob:
    return string_glob(op, pieces, lambda _p: None)


def _ok_values(op: Operator, clause: ConditionClause, request: Request, variables: bool) -> list[bool]:
    """Per policy value: whether it is well-formed (parses, its variables resolve)."""
    if op.family in ("Numeric", "Date"):
        parse = parse_number if op.family == "Numeric" else parse_date
        return [parse(v) is not None for v in clause.values]
    if op.family == "IpAddress":
        return [parse_network(v) is not None for v in clause.values]
    resolve = request_resolver(request)
    return [not string_glob(op, _pieces(v, variables), resolve).never for v in clause.values]


def _single(op: Operator, clause: ConditionClause, value: str, request: Request, variables: bool) -> bool:
    valid, results = _value_results(op, clause, value, request, variables)
    if not valid:
        return False
    if op.negated:
        ok = _ok_values(op, clause, request, variables)
        return all(o and not r for o, r in zip(ok, results, strict=True))
    return any(results)


def data_set(value: str | list[str] | None) -> list[str]:
    """The values a set operator ranges over: none for a missing key, and never the empty string."""
    if value is None:
        return []
    return [v for v in ([value] if isinstance(value, str) else value) if v != ""]


def clause_holds(clause: ConditionClause, request: Request, variables: bool) -> bool:
    """Whether one condition clause holds for a request; `variables` is the policy's Version support."""
    op = clause.op
    value = request.context_value(clause.key)
    if op.family == "Null":
        goal = "true" if value is None else "false"
        return any(v.lower() == goal for v in clause.values)
    if op.qualifier == "ForAllValues":
        return all(_single(op, clause, v, request, variables) for v in data_set(value))
    if op.qualifier == "ForAnyValue":
        return any(_single(op, clause, v, request, variables) for v in data_set(value))
    if value is None:
        return op.if_exists or op.negated
    if isinstance(value, list):
        return False
    return _single(op, clause, value, request, variables)
