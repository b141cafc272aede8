"""A diagnosis finding: the problem, its cause, the evidence that shows it, and the fix; ranked by severity.

A finding's cause and evidence quote the cluster (event messages, log lines, condition messages), so the
text a model reads holds findings inside one fence (`render_findings`): evidence, never instructions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from tools.kubernetes.render import as_data

__all__ = ["SEVERITIES", "Finding", "Severity", "counts", "rank", "render_findings"]

Severity = Literal["critical", "error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "error", "warning", "info")
"""Most to least urgent: critical = an outage or a cluster-wide block; error = a workload or object that
does not work; warning = works now but will fail or is degraded; info = worth knowing."""


@dataclass
class Finding:
    problem: str
    cause: str
    evidence: list[str]
    fix: str
    severity: Severity = "error"
    subject: str = ""
    """The object it is about, `Kind namespace/name` (or `Kind name` when cluster-scoped)."""
    affected: int = 1
    """How many pods (or objects) it touches: the tie-breaker within one severity."""
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        head = f"- problem: {self.problem}"
        if self.subject and self.subject not in self.problem:
            head += f" [{self.subject}]"
        lines = [head, f"  cause: {self.cause}"]
        lines += [f"  evidence: {e}" for e in self.evidence]
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("extra")
        return out


def rank(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, the widest blast radius first, then by subject."""
    order = {s: n for n, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], -f.affected, f.subject, f.problem))


def counts(findings: list[Finding]) -> dict[str, int]:
    return {s: sum(f.severity == s for f in findings) for s in SEVERITIES}


def render_findings(source: str, findings: list[Finding], numbered: bool = False) -> str:
    """Findings as the model reads them: one fenced block (their causes quote the cluster)."""
    if not findings:
        return ""
    blocks = []
    for n, f in enumerate(findings, 1):
        prefix = f"{n}. [{f.severity}] " if numbered else f"[{f.severity}] "
        blocks.append(prefix + f.text().removeprefix("- "))
    return as_data(source, "\n".join(blocks))
