"""How policy strings become globs: the rules both engines share (one source of truth for matching).

- Actions match case-insensitively: both sides are lowercased.
- Resources and ARN operators use ARN segment rules; resources are case-sensitive.
- A `Principal` value matches by ARN, by account (12 digits or `...:root`: any principal of that
  account), or `*`.
- String operators: `StringEquals` literal, `StringEqualsIgnoreCase` literal without case, `StringLike`
  with wildcards. Policy variables in a value become literal text once substituted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from policies.model import Principal
from policies.variables import Piece, split_pattern
from verifiers.iam.globs import NEVER, Glob, glob_from_pieces, literal_glob, pattern_glob

__all__ = [
    "Resolver",
    "action_glob",
    "principal_globs",
    "resource_pieces",
    "value_glob",
    "value_pieces",
]

Resolver = Callable[[Piece], str | None]
"""Gives a variable's value (or its default), or None when it cannot be resolved."""

_ACCOUNT = re.compile(r"\d{12}")
_ROOT = re.compile(r"arn:[^:]*:iam::(\d{12}):root")


def action_glob(pattern: str) -> Glob:
    return pattern_glob(pattern.lower())


def principal_globs(principal: Principal) -> list[Glob]:
    """Globs over the request's principal string that this `Principal` element matches."""
    if principal.wildcard:
        return [pattern_glob("*")]
    out: list[Glob] = []
    for kind, values in principal.values.items():
        for value in values:
            if value == "*" and kind == "AWS":
                out.append(pattern_glob("*"))
                continue
            account = value if _ACCOUNT.fullmatch(value) else None
            root = _ROOT.fullmatch(value)
            if kind == "AWS" and (account or root):
                acct = account or (root.group(1) if root else "")
                out.append(literal_glob(acct))
                out.append(
                    glob_from_pieces([("arn:", False), ("*", True), (f":iam::{acct}:", False), ("*", True)])
                )
                out.append(
                    glob_from_pieces([("arn:", False), ("*", True), (f":sts::{acct}:", False), ("*", True)])
                )
            else:
                out.append(literal_glob(value))
    return out


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
