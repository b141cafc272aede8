"""How policy strings become globs: the rules both engines share (one source of truth for matching).

- Actions match case-insensitively: both sides are lowercased.
- Resources and ARN operators use ARN segment rules; resources are case-sensitive.
- A `Principal` value matches by ARN ("direct"), by account (12 digits or `...:root`: any principal of
  that account, "account"), a role ARN also matches the role's sessions
  (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`, "role"), and `*` matches everyone ("direct"). How a
  resource policy names the principal decides whether its Allow needs an identity-policy Allow too
  (`verifiers.iam.evaluate`).
- String operators: `StringEquals` literal, `StringEqualsIgnoreCase` literal without case, `StringLike`
  with wildcards. Policy variables in a value become literal text once substituted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Literal

from policies.model import Principal
from policies.variables import Piece, split_pattern
from verifiers.iam.globs import ANY, NEVER, CharSet, Glob, glob_from_pieces, literal_glob, pattern_glob

__all__ = [
    "ACCOUNT_ARN",
    "DIGITS12",
    "PrincipalKind",
    "Resolver",
    "account_globs",
    "action_glob",
    "principal_globs",
    "principal_matchers",
    "resource_pieces",
    "value_glob",
    "value_pieces",
]

Resolver = Callable[[Piece], str | None]
"""Gives a variable's value (or its default), or None when it cannot be resolved."""

_ACCOUNT = re.compile(r"\d{12}")
_ROOT = re.compile(r"arn:[^:]*:iam::(\d{12}):root")
_ROLE = re.compile(r"arn:([^:]*):iam::(\d{12}):role/(?:.*/)?([^/]+)")

PrincipalKind = Literal["direct", "role", "account"]
"""How a `Principal` value matched the request's principal: named directly (its ARN, or `*`), as a role
whose session made the request, or as the account the principal belongs to."""

_DIGIT = CharSet(frozenset("0123456789"))
_NO_COLON = CharSet(frozenset(":"), True)
_NO_SLASH = CharSet(frozenset("/"), True)


def _text_tokens(text: str) -> list[tuple[bool, CharSet]]:
    return [(False, CharSet(frozenset(c))) for c in text]


DIGITS12 = Glob(tuple((False, _DIGIT) for _ in range(12)), "<12 digits>")
"""A bare account id (how `evaluate` reads a principal or resource that is only digits)."""
ACCOUNT_ARN = Glob(
    (
        *_text_tokens("arn:"),
        *((True, _NO_COLON), *_text_tokens(":")) * 3,
        *((False, _DIGIT),) * 12,
        *_text_tokens(":"),
        (True, ANY),
    ),
    "arn:*:*:*:<12 digits>:*",
)
"""An ARN whose account segment is an account id (`arn:p:s:r:111122223333:...`)."""


@lru_cache(maxsize=65_536)
def action_glob(pattern: str) -> Glob:
    return pattern_glob(pattern.lower())


@cache
def account_globs(account: str) -> tuple[Glob, Glob]:
    """The principal or resource strings that belong to `account`: the bare id, and ARNs in it."""
    arn = glob_from_pieces([("arn:", False), ("*:*:*", True), (f":{account}:", False), ("*", True)], arn=True)
    return literal_glob(account), arn


def principal_matchers(principal: Principal) -> tuple[tuple[PrincipalKind, Glob], ...]:
    """(kind, glob over the request's principal string) for each way this `Principal` element matches."""
    return _matchers(principal.wildcard, tuple(principal.values.items()))


@cache
def _matchers(
    wildcard: bool, items: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[tuple[PrincipalKind, Glob], ...]:
    if wildcard:
        return (("direct", pattern_glob("*")),)
    out: list[tuple[PrincipalKind, Glob]] = []
    for kind, values in items:
        for value in values:
            if value == "*" and kind == "AWS":
                out.append(("direct", pattern_glob("*")))
                continue
            account = value if _ACCOUNT.fullmatch(value) else None
            root = _ROOT.fullmatch(value)
            if kind == "AWS" and (account or root):
                acct = account or (root.group(1) if root else "")
                out.extend(("account", g) for g in account_globs(acct))
                continue
            out.append(("direct", literal_glob(value)))
            role = _ROLE.fullmatch(value) if kind == "AWS" else None
            if role:  # the role's sessions: arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION
                partition, acct, name = role.groups()
                head = f"arn:{partition}:sts::{acct}:assumed-role/{name}/"
                out.append(("role", Glob((*_text_tokens(head), (True, _NO_SLASH)), f"{head}*")))
    return tuple(out)


def principal_globs(principal: Principal) -> list[Glob]:
    """Globs over the request's principal string that this `Principal` element matches (any kind)."""
    return [g for _, g in principal_matchers(principal)]


def value_pieces(text: str, variables: bool) -> tuple[Piece, ...]:
    return split_pattern(text, variables)


resource_pieces = value_pieces


def value_glob(
    pieces: tuple[Piece, ...],
    resolve: Resolver,
    *,
    wildcards: bool,
    ignore_case: bool = False,
    arn: bool = False,
) -> Glob:
    """The glob of a policy string after variable substitution; `NEVER` when a variable is unresolved."""
    parts: list[tuple[str, bool]] = []
    for piece in pieces:
        if piece.kind == "var":
            value = resolve(piece)
            if value is None:
                return NEVER
            parts.append((value, False))
        else:
            parts.append((piece.text, wildcards and piece.kind == "pattern"))
    return _cached_glob(tuple(parts), ignore_case, arn)


@lru_cache(maxsize=65_536)
def _cached_glob(parts: tuple[tuple[str, bool], ...], ignore_case: bool, arn: bool) -> Glob:
    return glob_from_pieces(parts, ignore_case=ignore_case, arn=arn)
