"""A PNG of monthly cost per namespace, before and after (matplotlib, imported only when plotting)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_namespaces"]


def plot_namespaces(report: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cur, rec = report.current_allocation, report.recommended_allocation
    names = [*sorted(set(cur.by_namespace) | set(rec.by_namespace)), "(idle)"]
    before = [cur.by_namespace.get(n, 0.0) * 730 for n in names[:-1]] + [cur.idle_usd_per_hour * 730]
    after = [rec.by_namespace.get(n, 0.0) * 730 for n in names[:-1]] + [rec.idle_usd_per_hour * 730]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(names)), 3.6), dpi=100)
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], before, width=0.4, label=f"current ${report.current_monthly:,.0f}/mo")
    ax.bar(
        [x + 0.2 for x in xs], after, width=0.4, label=f"recommended ${report.recommended_monthly:,.0f}/mo"
    )
    ax.set_xticks(list(xs), names)
    ax.set_ylabel("USD / month")
    ax.set_title("Cost per namespace (OpenCost allocation)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
