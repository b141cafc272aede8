"""Charts for `report.html`: matplotlib PNGs as base64, or an explanatory note when matplotlib is absent."""

from __future__ import annotations

import base64
import io

from eval.suite import Chart

__all__ = ["render_charts"]


def _png(fig: object) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")  # type: ignore[attr-defined]
    return base64.b64encode(buf.getvalue()).decode()


def render_charts(charts: list[Chart], histogram: Chart | None = None) -> list[tuple[str, str]]:
    """(alt text, base64 PNG) per chart: bars for each `Chart`, a histogram of `histogram`'s values."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out: list[tuple[str, str]] = []
    for chart in charts:
        fig, ax = plt.subplots(figsize=(max(5.0, 0.6 * len(chart.labels) * max(1, len(chart.series))), 3.2))
        width = 0.8 / max(1, len(chart.series))
        for n, (name, values) in enumerate(chart.series.items()):
            xs = [i + n * width for i in range(len(values))]
            ax.bar(xs, values, width=width, label=name)
        ax.set_xticks([i + width * (len(chart.series) - 1) / 2 for i in range(len(chart.labels))])
        ax.set_xticklabels(chart.labels, rotation=30, ha="right", fontsize=8)
        ax.set_title(chart.title)
        ax.set_ylabel(chart.ylabel)
        if len(chart.series) > 1:
            ax.legend(fontsize=8)
        out.append((chart.title, _png(fig)))
        plt.close(fig)
    if histogram is not None and histogram.series:
        values = next(iter(histogram.series.values()))
        if values:
            fig, ax = plt.subplots(figsize=(5.5, 3.2))
            ax.hist(values, bins=min(40, max(5, len(values) // 5)))
            ax.set_title(histogram.title)
            ax.set_xlabel(histogram.ylabel)
            ax.set_ylabel("cases")
            out.append((histogram.title, _png(fig)))
            plt.close(fig)
    return out
