"""Lint findings: what, where (JSON pointer, and line and column when the text is known), how bad.

Severities follow IAM Access Analyzer's finding types: `error` (the element cannot work as written, or
AWS rejects it), `security_warning` (it works, and grants more than it seems to), `warning` (it works,
probably not as intended) and `suggestion` (it works; it could be simpler). Codes are Access Analyzer's
issue codes where one exists, and ours (documented in docs/iam-lint.md) where not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from policies.locate import Span, find
from policies.model import Policy

__all__ = ["SEVERITIES", "Context", "Finding", "Location", "Severity"]

Severity = Literal["error", "security_warning", "warning", "suggestion"]
SEVERITIES: tuple[Severity, ...] = ("error", "security_warning", "warning", "suggestion")
"""From the most to the least severe."""


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    column: int
    end_line: int
    end_column: int
    offset: int
    length: int


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    code: str
    pointer: str
    message: str
    location: Location | None = None
    """Where `pointer` is in the policy's text (None when the text was not given)."""
    path: str | None = None
    """The file the policy came from."""

    def text(self) -> str:
        """One line, as a compiler prints it: `error: FILE:LINE:COL: /pointer: message [CODE]`."""
        where = ""
        if self.location is not None:
            where = f"{self.path or '<policy>'}:{self.location.line}:{self.location.column}: "
        return f"{self.severity}: {where}{self.pointer or '/'}: {self.message} [{self.code}]"


@dataclass
class Context:
    """What one lint run knows: the policy, its type, where its elements are, the findings so far."""

    policy: Policy
    kind: Literal["identity", "resource", "scp"]
    spans: dict[str, Span]
    path: str | None = None
    out: list[Finding] = field(default_factory=list)

    def add(self, severity: Severity, code: str, pointer: str, message: str, *, key: bool = False) -> None:
        """Record a finding; `key`: it is about the element's name, so locate the name, not the value."""
        span = self.spans.get(f"{pointer}#key") if key else None
        span = span or find(self.spans, pointer)
        location = None if span is None else Location(**_fields(span))
        self.out.append(
            Finding(
                severity=severity,
                code=code,
                pointer=pointer,
                message=message,
                location=location,
                path=self.path,
            )
        )

    def statement_pointer(self, index: int) -> str:
        """`/Statement/3`, or `/Statement` for a policy whose Statement is one object."""
        if (
            self.spans
            and f"/Statement/{index}" not in self.spans
            and "/Statement" in self.spans
            and index == 0
        ):
            return "/Statement"
        return f"/Statement/{index}"

    def item(self, base: str, name: str, index: int, count: int) -> str:
        """The pointer of the index-th value of an element that is a string or a list of strings."""
        listed = f"{base}/{name}/{index}"
        if self.spans:
            return listed if listed in self.spans else f"{base}/{name}"
        return listed if count > 1 else f"{base}/{name}"


def _fields(span: Span) -> dict[str, int]:
    return {
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "offset": span.offset,
        "length": span.length,
    }
