"""Markdown for people of the IAM tools' artifacts: comparisons, decisions, lint findings and check
results. Imported by `tools.iam` (and by `tools.present` on first use of an `iam.*` kind)."""

from __future__ import annotations

import json
from typing import Any

from tools.iam.request_check import policy_against_request
from tools.present import Artifact, presenter, request_check

__all__ = [
    "check_synthesis",
    "present_check",
    "present_comparison",
    "present_decisions",
    "present_lint",
    "present_synthesis",
]

_BADGE = {
    "error": "🔴 error",
    "security_warning": "🟠 security warning",
    "warning": "🟡 warning",
    "suggestion": "🔵 suggestion",
}
_VERDICT = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "UNKNOWN": "❔ UNKNOWN"}


class _Markdown(str):
    """Text already formatted as Markdown (an inline code span): a table cell keeps its backticks."""


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if isinstance(value, _Markdown) else text.replace("`", "'")


def _code(value: Any) -> str:
    """A request or a pattern as inline code (backticks in it cannot close the span)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return _Markdown("`" + text.replace("`", "'") + "`")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


@presenter("iam.check")
def present_check(artifact: Artifact) -> str:
    name = str(artifact.get("check", "check"))
    out = [
        f"### {_VERDICT.get(str(artifact.get('result')), artifact.get('result'))}: {name} on {_code(artifact.get('policy', ''))}"
    ]
    out.append(str(artifact.get("message", "")))
    if artifact.get("reason"):
        out.append(f"Why no answer: {artifact['reason']}")
    if artifact.get("counterexample") is not None:
        out.append(f"Counterexample request: {_code(artifact['counterexample'])}")
    statements = artifact.get("statements") or []
    if statements:
        rows = [[s.get("pointer"), s.get("sid") or "", s.get("why", "")] for s in statements]
        out.append("Granted by:\n\n" + _table(["statement", "Sid", "why it applies"], rows))
    return "\n\n".join(out)


@presenter("iam.lint")
def present_lint(artifact: Artifact) -> str:
    findings = artifact.get("findings") or []
    if not findings:
        return f"### {_code(artifact.get('policy', 'the policy'))}: no findings"
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    summary = ", ".join(f"{n} {s.replace('_', ' ')}{'s' if n != 1 else ''}" for s, n in counts.items())
    rows = []
    for f in findings:
        where = f["pointer"] or "/"
        if f.get("location"):
            where = f"{where} (line {f['location']['line']}, column {f['location']['column']})"
        rows.append([_BADGE.get(f["severity"], f["severity"]), f["code"], where, f["message"]])
    return f"### Lint of {_code(artifact.get('policy', 'the policy'))}: {summary}\n\n" + _table(
        ["severity", "code", "where", "finding"], rows
    )


@presenter("iam.comparison")
def present_comparison(artifact: Artifact) -> str:
    a, b = _code(artifact.get("policy_a", "A")), _code(artifact.get("policy_b", "B"))
    relation = str(artifact.get("relation", "unknown")).replace("_", " ")
    head = f"### {a} is {relation}" + (
        "" if relation in ("unknown", "incomparable", "equivalent") else f" than {b}"
    )
    if relation == "equivalent":
        head += f" to {b}"
    out = [head]
    if artifact.get("reason"):
        out.append(f"Not proven: {artifact['reason']}")
    rows = [
        [a if c["allowed_by"] == "first" else b, b if c["allowed_by"] == "first" else a, _code(c["request"])]
        for c in artifact.get("counterexamples") or []
    ]
    if rows:
        out.append(_table(["allowed by", "denied by", "request"], rows))
    return "\n\n".join(out)


@presenter("iam.decisions")
def present_decisions(artifact: Artifact) -> str:
    rows, notes = [], []
    for r in artifact.get("results") or []:
        mark = "" if r.get("ok") is None else (" ✅" if r["ok"] else f" ❌ (expected {r.get('expected')})")
        request = r.get("request") or {}
        rows.append(
            [r.get("id"), request.get("action"), request.get("resource"), f"{r.get('decision')}{mark}"]
        )
        for m in r.get("matched") or []:
            notes.append(f"- {r.get('id')}: {m['statement']}: {m['why']}")
        for key, where in (r.get("missing_keys") or {}).items():
            notes.append(f"- {r.get('id')}: `{key}` not supplied (consulted by {'; '.join(where)})")
    out = [
        f"### Requests against {_code(artifact.get('policy', 'the policy'))}",
        _table(["id", "action", "resource", "decision"], rows),
    ]
    if notes:
        out.append("\n".join(notes))
    return "\n\n".join(out)


@presenter("iam.synthesis")
def present_synthesis(artifact: Artifact) -> str:
    status = str(artifact.get("status", ""))
    policy = artifact.get("policy")
    proven = bool(artifact.get("proven")) and policy is not None
    if policy is None:
        title = f"### ❌ No policy written ({status})"
    else:
        title = (
            f"### ❔ Policy written, not proven ({status})"
            if not proven
            else "### ⚠️ Policy written, proven by Z3, but it differs from the request (below)"
            if artifact.get("against_request")
            else "### ✅ Policy written, proven by Z3"
        )
    out = [title]
    if policy is not None:
        out.append("```json\n" + json.dumps(policy, indent=2) + "\n```")
    out += [f"- {line}" for line in artifact.get("proofs") or []]
    out += [f"- not met: {line}" for line in artifact.get("unmet") or []]
    out += [f"- ⚠️ {line}" for line in artifact.get("warnings") or []]
    out += [f"- ⚠️ {line}" for line in artifact.get("against_request") or []]
    if policy is not None and artifact.get("against_request") == []:
        out.append(
            "- held against the request: every address, account, region, VPC and ARN it names is in the "
            "policy, and the policy's ARNs name no other account or region"
        )
    if proven and artifact.get("source") == "allow-list":
        # the entries are the model's reading of the request: regions, accounts and conditions it left out or
        # made up are proven as written (the 1.5B model dropped "only from 203.0.113.0/24" and invented an
        # account), so the reader is told what the proof covers
        out.append(
            "- proven against the entries above, not against the request: check their resources and conditions"
        )
    return "\n\n".join(out[:2]) + ("\n\n" + "\n".join(out[2:]) if out[2:] else "")


@request_check("iam.synthesis")
def check_synthesis(artifact: Artifact, request: str) -> list[str]:
    """A written policy against the request's literals (`tools.iam.request_check`); nothing to check
    without a policy."""
    policy = artifact.get("policy")
    return policy_against_request(policy, request) if isinstance(policy, dict) else []
