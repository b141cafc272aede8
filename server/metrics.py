"""Prometheus text exposition for the server: requests, tool calls, approvals and latencies.

A small in-process registry (counters and histograms behind one lock) rather than a dependency: the
server exposes a handful of series, and the text format is simple and stable.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from typing import ClassVar

__all__ = ["Metrics"]

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

Labels = tuple[tuple[str, str], ...]


def _fmt_labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in pairs)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(pairs, escaped, strict=True)) + "}"


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(_BUCKETS) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(_BUCKETS, value)] += 1
        self.total += value
        self.n += 1


class Metrics:
    """Thread-safe counters, gauges and histograms, rendered in the Prometheus text format."""

    _HELP: ClassVar[dict[str, tuple[str, str]]] = {
        "opsgraph_http_requests_total": ("counter", "HTTP requests by method, route and status."),
        "opsgraph_http_request_duration_seconds": (
            "histogram",
            "HTTP request handling time (until headers).",
        ),
        "opsgraph_tool_calls_total": ("counter", "Tool calls requested by agents, by agent and tool."),
        "opsgraph_approvals_total": ("counter", "Approval decisions received, by decision."),
        "opsgraph_runs_total": ("counter", "Streamed runs by kind (message, approval) and outcome."),
        "opsgraph_run_first_event_seconds": ("histogram", "Time from request to the first streamed event."),
        "opsgraph_run_duration_seconds": ("histogram", "Time from request to the end of the stream."),
        "opsgraph_active_streams": ("gauge", "Runs streaming right now."),
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._gauges: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._histograms: dict[str, dict[Labels, _Histogram]] = defaultdict(dict)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def gauge_add(self, name: str, amount: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._gauges[name]
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._histograms[name].setdefault(key, _Histogram()).observe(value)

    def value(self, name: str, **labels: str) -> float:
        """A counter's or gauge's current value (0 when never touched); for tests and health checks."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            return self._counters.get(name, {}).get(key, self._gauges.get(name, {}).get(key, 0.0))

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for name, (kind, text) in self._HELP.items():
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                for labels, value in sorted(self._counters.get(name, {}).items()):
                    lines.append(f"{name}{_fmt_labels(labels)} {value:g}")
                for labels, value in sorted(self._gauges.get(name, {}).items()):
                    lines.append(f"{name}{_fmt_labels(labels)} {value:g}")
                for labels, hist in sorted(self._histograms.get(name, {}).items()):
                    running = 0
                    for bound, count in zip((*_BUCKETS, float("inf")), hist.counts, strict=True):
                        running += count
                        le = "+Inf" if bound == float("inf") else f"{bound:g}"
                        lines.append(f"{name}_bucket{_fmt_labels(labels, (('le', le),))} {running}")
                    lines.append(f"{name}_sum{_fmt_labels(labels)} {hist.total:.6f}")
                    lines.append(f"{name}_count{_fmt_labels(labels)} {hist.n}")
        return "\n".join(lines) + "\n"
