"""The PromQL subset, evaluated over hand-made series (the sandbox's own series are tested over HTTP)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sandbox.promql import query_instant, query_range
from sandbox.promql_parse import Matcher, PromQLError, parse, parse_duration


@dataclass
class Line:
    """A series whose value grows linearly (a counter with a constant rate), sampled every 30 s."""

    labels: dict[str, str]
    rate: float
    offset: float = 0.0

    def points(self, lo: float, hi: float) -> list[tuple[float, float]]:
        t = (lo // 30 + 1) * 30
        out = []
        while t <= hi:
            out.append((t, self.offset + self.rate * t))
            t += 30
        return out


SERIES = [
    Line({"__name__": "cpu_total", "namespace": "a", "pod": "web-1", "container": "web"}, 0.5),
    Line({"__name__": "cpu_total", "namespace": "a", "pod": "web-2", "container": "web"}, 1.5),
    Line({"__name__": "cpu_total", "namespace": "b", "pod": "db-1", "container": "db"}, 2.0),
    Line({"__name__": "limit", "namespace": "a", "pod": "web-1", "container": "web"}, 0.0, 512.0),
    Line(
        {"__name__": "reason", "namespace": "a", "pod": "web-1", "container": "web", "reason": "OOMKilled"},
        0.0,
        1.0,
    ),
]


def source(matchers: list[Matcher]) -> list[Line]:
    return [s for s in SERIES if all(m.matches(s.labels) for m in matchers)]


def values(query: str, t: float = 10_000.0) -> dict[str, float]:
    data = query_instant(source, query, t)
    assert data["resultType"] == "vector"
    return {r["metric"].get("pod", ""): float(r["value"][1]) for r in data["result"]}


def test_rate_with_matchers_and_aggregation_by() -> None:
    assert values('rate(cpu_total{namespace="a", pod=~"web-.*"}[5m])') == {"web-1": 0.5, "web-2": 1.5}
    assert values('max(rate(cpu_total{namespace="a"}[5m])) by (container, pod)') == {
        "web-1": 0.5,
        "web-2": 1.5,
    }
    assert values("sum(rate(cpu_total[5m]))") == {"": 4.0}
    by_ns = query_instant(source, "sum(rate(cpu_total[5m])) by (namespace)", 10_000)["result"]
    assert {r["metric"]["namespace"]: r["value"][1] for r in by_ns} == {"a": "2", "b": "2"}
    assert values('rate(cpu_total{pod!~"web-.*"}[2m])') == {"db-1": 2.0}


def test_subquery_quantile_over_time_as_krr_writes_it() -> None:
    query = 'quantile_over_time(0.95, max(rate(cpu_total{namespace="a", pod=~"web-1|web-2"}[5m])) by (container, pod)[1h:5m])'
    assert values(query) == {"web-1": 0.5, "web-2": 1.5}
    assert values('count_over_time(max(cpu_total{pod="web-1"}) by (pod)[1h:5m])') == {"web-1": 12.0}


def test_group_left_join_as_the_oom_query() -> None:
    query = (
        'max(max(limit{namespace="a"}) by (pod, container) * on(pod, container) group_left(reason) '
        'max(reason{reason="OOMKilled"}) by (pod, container, reason)) by (container, pod)'
    )
    assert values(query) == {"web-1": 512.0}


def test_arithmetic_comparison_and_set_operators() -> None:
    assert values("rate(cpu_total[5m]) * 1000 > 1000") == {"web-2": 1500.0, "db-1": 2000.0}
    assert values("rate(cpu_total[5m]) > bool 1") == {"web-1": 0.0, "web-2": 1.0, "db-1": 1.0}
    assert values('rate(cpu_total{namespace="a"}[5m]) unless rate(cpu_total{pod="web-1"}[5m])') == {
        "web-2": 1.5
    }
    assert query_instant(source, "1 + 2 * 3 ^ 2", 0)["result"][1] == "19"
    assert values("topk(1, rate(cpu_total[5m]))") == {"db-1": 2.0}


def test_query_range_returns_a_matrix_per_series() -> None:
    data = query_range(source, 'rate(cpu_total{pod="web-1"}[5m])', 9000, 10_000, 100)
    assert data["resultType"] == "matrix" and len(data["result"]) == 1
    assert len(data["result"][0]["values"]) == 11 and {v for _, v in data["result"][0]["values"]} == {"0.5"}


def test_errors_name_the_problem() -> None:
    with pytest.raises(PromQLError, match="position"):
        parse("sum(rate(x[5m])")
    with pytest.raises(PromQLError, match="unknown or unsupported function 'holt_winters'"):
        query_instant(source, "holt_winters(cpu_total[5m], 0.1, 0.1)", 0)
    with pytest.raises(PromQLError, match="bad duration"):
        parse_duration("5 parsecs")
    assert parse_duration("1h30m") == 5400
