"""A diagnosis finding: the problem, its cause, the evidence that shows it, and the fix."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding"]


@dataclass
class Finding:
    problem: str
    cause: str
    evidence: list[str]
    fix: str

    def text(self) -> str:
        lines = [f"- problem: {self.problem}", f"  cause: {self.cause}"]
        lines += [f"  evidence: {e}" for e in self.evidence]
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)
