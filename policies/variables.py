"""Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, and the `${*}`/`${?}`/`${$}` escapes).

`split_pattern` cuts a policy string into pieces: pattern text (where `*` and `?` are wildcards), literal
text (an escape), and variables. Variables are substituted only in `2012-10-17` documents; in others the
whole string is pattern text. A substituted value is literal: its `*` is a star character, not a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Piece", "has_variables", "split_pattern"]

_TOKEN = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Piece:
    """`kind` is "pattern" (wildcards active), "literal" (escape), or "var" (`text` is the key)."""

    kind: str
    text: str
    default: str | None = None


def split_pattern(text: str, variables: bool) -> tuple[Piece, ...]:
    if not variables or "${" not in text:
        return (Piece("pattern", text),)
    pieces: list[Piece] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            pieces.append(Piece("pattern", text[pos : m.start()]))
        inner = m.group(1)
        if inner in _ESCAPES:
            pieces.append(Piece("literal", _ESCAPES[inner]))
        else:
            name, default = inner, None
            if ", " in inner:
                head, tail = inner.split(", ", 1)
                if len(tail) >= 2 and tail[0] == tail[-1] == "'":
                    name, default = head, tail[1:-1]
            pieces.append(Piece("var", name.strip(), default))
        pos = m.end()
    if pos < len(text):
        pieces.append(Piece("pattern", text[pos:]))
    return tuple(pieces)


def has_variables(pieces: tuple[Piece, ...]) -> bool:
    return any(p.kind == "var" for p in pieces)
