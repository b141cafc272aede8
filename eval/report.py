"""`report.md` (tables) and `report.html` (the same tables with matplotlib plots embedded as PNGs)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from eval.case import CaseResult
from eval.plots import render_charts
from eval.suite import Chart, SuiteSummary, Table

__all__ = ["case_table", "model_line", "overview_table", "write_reports"]

_CASE_ROWS_MAX = 2000


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def model_line(model: dict[str, Any]) -> str:
    """The model and the settings that shaped its calls, on one line (empty for a run without a model)."""
    if not model:
        return ""
    name = str(model.get("name", "?"))
    if name == "offline":
        return name  # the offline model is not shaped by the real-model settings
    shown = [
        f"{k}={model[k]}"
        for k in ("base_url", "tool_calls", "max_tools", "router_max_tokens", "max_tokens", "temperature")
        if model.get(k) is not None
    ]
    if name.startswith("local:"):
        shown += [
            f"{k}={model[k]}" for k in ("local_context_size", "local_threads") if model.get(k) is not None
        ]
    replayed = f"; replayed from {model['replayed_from']}" if model.get("replayed_from") else ""
    return f"{name} ({', '.join(shown)}){replayed}" if shown else f"{name}{replayed}"


def overview_table(summary: dict[str, Any]) -> Table:
    usage, durations = summary["usage"], summary["durations"]
    cost = usage["cost_usd"]
    model = model_line(summary.get("model") or {})
    rows = [
        *([["model", model]] if model else []),
        ["cases", summary["cases"]],
        *[[f"status: {k}", v] for k, v in summary["status"].items() if v],
        ["pass rate", summary["pass_rate"]],
        ["wall time (s)", summary["wall_s"]],
        ["workers / backend", f"{summary['options']['workers']} / {summary['options']['backend']}"],
        [
            "case time median / p95 / max (s)",
            _fmt([durations.get(k) for k in ("median_s", "p95_s", "max_s")]),
        ],
        ["model calls", usage["calls"]],
        ["tokens in / out", f"{usage['input_tokens']} / {usage['output_tokens']}"],
        ["model cost (USD)", "unknown (no price for this model)" if cost is None else f"{cost:.4f}"],
    ]
    return Table(title="Overview", headers=["", "value"], rows=rows)


def case_table(results: list[CaseResult]) -> Table:
    rows = [
        [
            r.id,
            r.status,
            r.score,
            round(r.duration_s, 4),
            r.usage.input_tokens + r.usage.output_tokens,
            r.usage.cost_usd,
            r.error or r.detail.get("summary", ""),
        ]
        for r in results[:_CASE_ROWS_MAX]
    ]
    note = f"first {_CASE_ROWS_MAX} of {len(results)} cases" if len(results) > _CASE_ROWS_MAX else ""
    return Table(
        title="Cases",
        headers=["case", "status", "score", "time (s)", "tokens", "cost (USD)", "note"],
        rows=rows,
        note=note,
    )


def _md_cell(value: Any) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def _markdown(table: Table) -> str:
    lines = [f"## {table.title}", ""]
    if table.note:
        lines += [table.note, ""]
    lines.append("| " + " | ".join(table.headers) + " |")
    lines.append("|" + "---|" * len(table.headers))
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in table.rows
    )
    note = f"<p>{html.escape(table.note)}</p>" if table.note else ""
    return f"<h2>{html.escape(table.title)}</h2>{note}<table><tr>{head}</tr>{body}</table>"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
    "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
    "font-size:13px;text-align:left;vertical-align:top}th{background:#f3f3f3}img{max-width:100%}"
)


def _time_chart(results: list[CaseResult]) -> Chart:
    return Chart(
        title="Case time distribution",
        labels=[r.id for r in results],
        series={"seconds": [r.duration_s for r in results]},
        ylabel="seconds",
    )


def write_reports(
    out_dir: Path, summary: dict[str, Any], suite_summary: SuiteSummary, results: list[CaseResult]
) -> None:
    title = f"opsgraph eval: {summary['suite']}"
    tables = [overview_table(summary), *suite_summary.tables, case_table(results)]
    intro = f"{summary['description']}\n\nStarted {summary['started_at']}; options: `{summary['options']}`.\n"
    md = [f"# {title}", "", intro] + [_markdown(t) for t in tables]
    (out_dir / "report.md").write_text("\n".join(md), encoding="utf-8")
    images = render_charts([*suite_summary.charts], histogram=_time_chart(results))
    figures = "".join(
        f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'
        for alt, data in images
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>"
        f"{_html_table(tables[0])}{figures}{''.join(_html_table(t) for t in tables[1:])}</body></html>"
    )
    (out_dir / "report.html").write_text(page, encoding="utf-8")
