"""The Prometheus client speaks the real query_range protocol: replayed from recorded responses."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from tools.cost.rightsize import ContainerResources, recommend
from tools.cost.usage import ContainerRef, PrometheusUsageSource, UsageError, cpu_query

RECORDED = Path(__file__).parent / "data" / "prometheus_query_range.json"
REF = ContainerRef(namespace="shop", pods=["web-7d9f-a", "web-7d9f-b"], container="web")


class RecordedPrometheus(httpx.BaseTransport):
    """Replays recorded /api/v1/query_range answers, keyed by the metric the query reads."""

    def __init__(self) -> None:
        self.answers = json.loads(RECORDED.read_text())
        self.queries: list[dict[str, list[str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/query_range"
        form = parse_qs(request.content.decode())
        self.queries.append(form)
        query = form["query"][0]
        for metric, answer in self.answers.items():
            if metric in query:
                return httpx.Response(200, json=answer)
        return httpx.Response(
            400, json={"status": "error", "errorType": "bad_data", "error": "unknown metric"}
        )


def test_query_range_with_krr_queries() -> None:
    transport = RecordedPrometheus()
    source = PrometheusUsageSource("http://prom.test:9090", transport=transport, now=1_700_000_000.0)
    usage = source.container_usage(REF, timedelta(days=14), timedelta(minutes=5))
    cpu_form = transport.queries[0]
    assert cpu_form["query"] == [cpu_query(REF, timedelta(minutes=5))]
    assert 'pod=~"web-7d9f-a|web-7d9f-b"' in cpu_form["query"][0]
    assert "by (container, pod, job)" in cpu_form["query"][0]
    assert cpu_form["step"] == ["300s"]
    assert float(cpu_form["end"][0]) - float(cpu_form["start"][0]) == pytest.approx(14 * 86400)
    assert set(usage.cpu_cores) == {"web-7d9f-a", "web-7d9f-b"}
    assert usage.oom_killed_limit_bytes == 268435456.0
    rec = recommend("shop/Deployment/web", "web", ContainerResources(cpu_request_m=500), usage)
    assert rec.cpu_p == pytest.approx(190.0)  # pod a: 0..200m in 1m steps, NaN skipped -> p95 = 190m
    assert rec.recommended.memory_limit_mib == 320  # OOM at 256Mi -> 256 * 1.25


def test_api_errors_are_reported_with_the_endpoint() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"status": "error", "error": "parse error at char 5"})

    source = PrometheusUsageSource("http://prom.test:9090", transport=httpx.MockTransport(broken))
    with pytest.raises(
        UsageError, match=r"prom.test:9090/api/v1/query_range: HTTP 422: parse error at char 5"
    ):
        source.container_usage(REF, timedelta(days=1), timedelta(minutes=5))
