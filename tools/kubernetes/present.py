"""Markdown for people of the Kubernetes tools' artifacts: pod tables, diagnoses as cause / evidence / fix,
ranked findings, metric series and exec output. Imported by `tools.present` on first use of a kind."""

from __future__ import annotations

from typing import Any

from tools.present import Artifact, presenter

__all__ = ["cell", "present_diagnosis", "present_exec", "present_findings", "present_metrics", "present_pods"]

_BADGE = {"critical": "🔴 critical", "error": "🟠 error", "warning": "🟡 warning", "info": "🔵 info"}


def cell(value: Any) -> str:
    """Text safe inside one Markdown table cell."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _code(text: str) -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _finding(f: dict[str, Any], heading: str) -> str:
    parts = [heading, f"**Cause:** {f['cause']}", "**Evidence:**"]
    parts += [f"- {e}" for e in f.get("evidence") or []]
    parts.append(
        f"\n**Fix:** {f['fix']}"
    )  # a paragraph of its own, not the last evidence item's continuation
    return "\n".join(parts)


@presenter("kubernetes.pods")
def present_pods(artifact: Artifact) -> str:
    rows = [
        [p.get("namespace", ""), p["name"], p["ready"], p["status"], p["restarts"], p["age"], p["node"]]
        for p in artifact.get("pods") or []
    ]
    if not rows:
        return f"No pods in {artifact.get('namespace', 'the cluster')}."
    headers = ["namespace", "name", "ready", "status", "restarts", "age", "node"]
    if artifact.get("namespace") != "all namespaces":
        headers, rows = headers[1:], [r[1:] for r in rows]
    return _table(headers, rows)


@presenter("kubernetes.diagnosis")
def present_diagnosis(artifact: Artifact) -> str:
    findings = artifact.get("findings") or []
    out = [f"### {artifact.get('subject', '')}: {artifact.get('status', '')}".rstrip(": ")]
    if not findings:
        out.append("No problem found.")
    for f in findings:
        out.append(_finding(f, f"#### {f['problem']}"))
    for container, text in (artifact.get("logs") or {}).items():
        if text.strip():
            out.append(f"Logs of {container} (last lines):\n{_code(text)}")
    return "\n\n".join(out)


@presenter("kubernetes.findings")
def present_findings(artifact: Artifact) -> str:
    findings = artifact.get("findings") or []
    counts = ", ".join(f"{n} {s}" for s, n in (artifact.get("counts") or {}).items() if n) or "no findings"
    out = [f"### Triage of the {artifact.get('scope', 'cluster')}: {counts}"]
    if findings:
        out.append(
            _table(
                ["#", "severity", "object", "problem"],
                [
                    [n, _BADGE.get(f["severity"], f["severity"]), f["subject"], f["problem"]]
                    for n, f in enumerate(findings, 1)
                ],
            )
        )
    for n, f in enumerate(findings[:10], 1):
        out.append(_finding(f, f"#### {n}. {f['problem']}"))
    if len(findings) > 10:
        out.append(f"… and {len(findings) - 10} more in the table above.")
    for gap in artifact.get("gaps") or []:
        out.append(f"Not checked: {gap}")
    return "\n\n".join(out)


@presenter("kubernetes.metrics")
def present_metrics(artifact: Artifact) -> str:
    series = artifact.get("series") or []
    title = f"`{cell(artifact.get('query', ''))}`"
    if not series:
        return f"{title}: no series."

    def labels(s: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted((s.get("labels") or {}).items()) if k != "__name__")

    def num(x: Any) -> str:
        return "–" if x is None else (f"{x:.4g}" if isinstance(x, float) else str(x))

    if artifact.get("type") == "matrix":
        table = _table(
            ["series", "min", "avg", "max", "last"],
            [[labels(s), num(s["min"]), num(s["avg"]), num(s["max"]), num(s["last"])] for s in series],
        )
    else:
        table = _table(["series", "value"], [[labels(s) or "(value)", num(s.get("value"))] for s in series])
    more = artifact.get("total", len(series)) - len(series)
    return f"{title}\n\n{table}" + (f"\n\n{more} more series not shown." if more > 0 else "")


@presenter("kubernetes.exec")
def present_exec(artifact: Artifact) -> str:
    head = f"`{cell(' '.join(artifact.get('command') or []))}` in {artifact.get('pod', '')}"
    if artifact.get("container"):
        head += f" (container {artifact['container']})"
    status = (
        f"exit code {artifact.get('exit_code')}" if artifact.get("exit_code") is not None else "no exit code"
    )
    return f"{head}: {status}\n\n{_code(str(artifact.get('output', '')))}"
