"""`opsgraph eval compare RUN_A RUN_B [RUN ...]`: how runs differ, typically one suite on several models.

Two runs: the headline figures that differ and the cases whose outcome changed. Any number of runs: the
headline figures side by side, one column per run, headed by the run's model (`compare_table`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.report import model_line
from eval.runner import read_results

__all__ = ["compare_runs", "compare_table", "format_comparison", "format_table"]


def _summary(run: Path) -> dict[str, Any]:
    path = run / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no summary.json (is {run} the --out folder of a run?)")
    try:
        summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
    return summary


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = value


def compare_runs(run_a: Path, run_b: Path) -> dict[str, Any]:
    """Numbers that differ (status counts, metrics, times, usage) and per-case changes."""
    sa, sb = _summary(run_a), _summary(run_b)
    fa: dict[str, Any] = {}
    fb: dict[str, Any] = {}
    for key in ("status", "pass_rate", "wall_s", "durations", "usage", "metrics"):
        _flatten(key, sa.get(key), fa)
        _flatten(key, sb.get(key), fb)
    figures = {
        k: {"a": fa.get(k), "b": fb.get(k)} for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)
    }
    ra = {r.id: r for r in read_results(run_a)}
    rb = {r.id: r for r in read_results(run_b)}
    changed = []
    for case_id in sorted(set(ra) & set(rb)):
        a, b = ra[case_id], rb[case_id]
        if (a.status, a.score, a.metrics) != (b.status, b.score, b.metrics):
            fields = sorted(
                k for k in set(a.metrics) | set(b.metrics) if a.metrics.get(k) != b.metrics.get(k)
            )
            changed.append(
                {"id": case_id, "a": a.status, "b": b.status, "score": [a.score, b.score], "fields": fields}
            )
    return {
        "a": _side(run_a, sa),
        "b": _side(run_b, sb),
        "figures": figures,
        "changed_cases": changed,
        "only_in_a": sorted(set(ra) - set(rb)),
        "only_in_b": sorted(set(rb) - set(ra)),
    }


def _side(run: Path, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "dir": str(run),
        "suite": summary.get("suite"),
        "cases": summary.get("cases"),
        "model": model_line(summary.get("model") or {}),
    }


_HEADLINE = ("cases", "pass_rate", "status", "metrics", "durations.median_s", "wall_s", "usage")


def compare_table(runs: list[Path]) -> dict[str, Any]:
    """The headline figures of `runs` side by side: `columns` (one per run) and `rows` (figure, values)."""
    summaries = [_summary(run) for run in runs]
    flat: list[dict[str, Any]] = []
    for s in summaries:
        f: dict[str, Any] = {}
        for key in _HEADLINE:
            head, _, rest = key.partition(".")
            value = s.get(head)
            if rest and isinstance(value, dict):
                value = value.get(rest)
            _flatten(key, value, f)
        flat.append(f)
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return {
        "columns": [_side(run, s) for run, s in zip(runs, summaries, strict=True)],
        "rows": [[k, *[f.get(k) for f in flat]] for k in keys],
    }


def format_table(table: dict[str, Any]) -> str:
    columns = table["columns"]
    lines = [
        f"{n}: {c['dir']} ({c['suite']}, {c['cases']} cases; model {c['model'] or 'none'})"
        for n, c in enumerate(columns, 1)
    ]
    if len({c["suite"] for c in columns}) > 1:
        lines.append("warning: the runs are of different suites")
    width = max((len(str(r[0])) for r in table["rows"]), default=10)
    lines += [
        "",
        f"{'figure':<{width}}  " + "  ".join(f"{f'run {n}':>10}" for n in range(1, len(columns) + 1)),
    ]
    for key, *values in table["rows"]:
        shown = ["–" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in values]
        lines.append(f"{key:<{width}}  " + "  ".join(f"{v:>10}" for v in shown))
    return "\n".join(lines)


def format_comparison(diff: dict[str, Any]) -> str:
    a, b = diff["a"], diff["b"]
    lines = [
        f"A: {a['dir']} ({a['suite']}, {a['cases']} cases; model {a.get('model') or 'none'})",
        f"B: {b['dir']} ({b['suite']}, {b['cases']} cases; model {b.get('model') or 'none'})",
    ]
    if a["suite"] != b["suite"]:
        lines.append("warning: the runs are of different suites")
    lines.append("")
    lines.append("figures that differ:" if diff["figures"] else "no headline figure differs")
    for key, v in diff["figures"].items():
        lines.append(f"  {key}: {v['a']} -> {v['b']}")
    lines.append("")
    lines.append(f"cases whose outcome changed: {len(diff['changed_cases'])}")
    for c in diff["changed_cases"][:200]:
        what = f"{c['a']} -> {c['b']}" if c["a"] != c["b"] else "same status"
        lines.append(f"  {c['id']}: {what}; changed: {', '.join(c['fields']) or 'score'}")
    for side in ("only_in_a", "only_in_b"):
        if diff[side]:
            lines.append(f"{side.replace('_', ' ')}: {len(diff[side])} cases")
    return "\n".join(lines)
