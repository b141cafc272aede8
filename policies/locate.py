"""Where each element of a JSON document sits in its text: JSON pointer -> line, column and offset.

`locate(text)` scans the text once (linear time, no recursion limit) and records the span of every value,
and of every object key (as the pointer with `#key` appended), so that a finding about
`/Statement/1/Resource/0` can say "line 9, column 21" as IAM Access Analyzer does. Lines and columns
start at 1; offsets at 0 and count characters.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

__all__ = ["Span", "find", "locate"]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = ("true", "false", "null")


@dataclass(frozen=True)
class Span:
    """A region of the text: 1-based lines and columns (end exclusive), 0-based character offset."""

    line: int
    column: int
    end_line: int
    end_column: int
    offset: int
    length: int

    def to_json(self) -> dict[str, int]:
        return {
            "line": self.line,
            "column": self.column,
            "endLine": self.end_line,
            "endColumn": self.end_column,
            "offset": self.offset,
            "length": self.length,
        }


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self.spans: dict[str, Span] = {}

    def span(self, start: int, end: int) -> Span:
        line = bisect.bisect_right(self.starts, start)
        end_line = bisect.bisect_right(self.starts, max(start, end - 1))
        return Span(
            line=line,
            column=start - self.starts[line - 1] + 1,
            end_line=end_line,
            end_column=end - self.starts[end_line - 1] + 1,
            offset=start,
            length=end - start,
        )

    def skip(self, i: int) -> int:
        match = _WS.match(self.text, i)
        return match.end() if match else i

    def scalar(self, i: int) -> int:
        """The end of the string, number or literal starting at `i`."""
        text = self.text
        if text.startswith('"', i):
            _, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            return int(end)
        for word in _LITERALS:
            if text.startswith(word, i):
                return i + len(word)
        match = _NUMBER.match(text, i)
        if not match:
            raise ValueError(f"not JSON at offset {i}")
        return match.end()

    def run(self) -> dict[str, Span]:
        """Iterative scan: a stack of open containers, each with its pointer, start and next index."""
        text = self.text
        i = self.skip(0)
        stack: list[tuple[str, str, int, int]] = []  # (kind, pointer, start offset, next array index)
        pointer = ""
        while True:
            if i >= len(text):
                raise ValueError("unexpected end of JSON")
            c = text[i]
            if c in "{[":
                stack.append(("o" if c == "{" else "a", pointer, i, 0))
                i = self.skip(i + 1)
                if text.startswith("}" if c == "{" else "]", i):
                    pass  # empty container: closed below
                elif c == "{":
                    i, pointer = self.key(i, pointer)
                    continue
                else:
                    pointer = f"{pointer}/0"
                    continue
            else:
                end = self.scalar(i)
                self.spans[pointer] = self.span(i, end)
                i = self.skip(end)
            # after a value: close containers, or move to the next member
            while True:
                if not stack:
                    return self.spans
                kind, parent, start, index = stack[-1]
                if text.startswith(",", i):
                    i = self.skip(i + 1)
                    if kind == "o":
                        i, pointer = self.key(i, parent)
                    else:
                        stack[-1] = (kind, parent, start, index + 1)
                        pointer = f"{parent}/{index + 1}"
                    break
                closer = "}" if kind == "o" else "]"
                if not text.startswith(closer, i):
                    raise ValueError(f"expected {closer!r} at offset {i}")
                stack.pop()
                self.spans[parent] = self.span(start, i + 1)
                i = self.skip(i + 1)

    def key(self, i: int, parent: str) -> tuple[int, str]:
        if not self.text.startswith('"', i):
            raise ValueError(f"expected a key at offset {i}")
        name, end = json.decoder.scanstring(self.text, i + 1)  # type: ignore[attr-defined]
        pointer = f"{parent}/{_escape(str(name))}"
        self.spans[f"{pointer}#key"] = self.span(i, int(end))
        i = self.skip(int(end))
        if not self.text.startswith(":", i):
            raise ValueError(f"expected ':' at offset {i}")
        return self.skip(i + 1), pointer


def locate(text: str) -> dict[str, Span]:
    """The span of every value (by JSON pointer) and key (`pointer#key`); empty when the text is not JSON.

    A pointer to a member that is not there falls back to its nearest ancestor: use `find`."""
    try:
        return _Scanner(text).run()
    except (ValueError, IndexError):
        return {}


def find(spans: dict[str, Span], pointer: str) -> Span | None:
    """The span of `pointer`, or of its nearest ancestor that has one."""
    while True:
        if pointer in spans:
            return spans[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]
