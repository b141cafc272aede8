"""/metrics counts requests, tool calls and approvals, and times runs, in the Prometheus text format."""

from __future__ import annotations

import re

from tests.server.conftest import ALICE, Served, decide, new_thread, send


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in /metrics"
    return float(match.group(1))


def test_metrics_follow_a_chat_with_an_approval(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    send(served.client, thread_id, "scale deploy web to 3 in shop", ALICE)
    decide(served.client, thread_id, ALICE, decision="approve")
    send(served.client, thread_id, "list pods", ALICE)
    text = served.client.get("/metrics").text
    assert text.startswith("# HELP ")
    assert _value(text, 'opsgraph_tool_calls_total{agent="kubernetes",tool="scale_deployment"}') == 1
    assert _value(text, 'opsgraph_tool_calls_total{agent="kubernetes",tool="list_pods"}') == 1
    assert _value(text, 'opsgraph_approvals_total{decision="approve"}') == 1
    assert _value(text, 'opsgraph_runs_total{kind="message",outcome="interrupted"}') == 1
    assert _value(text, 'opsgraph_runs_total{kind="message",outcome="done"}') == 1
    assert _value(text, 'opsgraph_runs_total{kind="approval",outcome="done"}') == 1
    route = 'method="POST",route="/v1/threads/{thread_id}/messages"'
    assert _value(text, f'opsgraph_http_requests_total{{{route},status="200"}}') == 2
    assert _value(text, 'opsgraph_run_first_event_seconds_count{kind="message"}') == 2
    assert _value(text, "opsgraph_active_streams") == 0
    buckets = re.findall(
        r'^opsgraph_run_duration_seconds_bucket\{kind="message",le="[^"]+"\} (\d+)$', text, re.M
    )
    assert [int(b) for b in buckets] == sorted(int(b) for b in buckets)  # cumulative
    assert int(buckets[-1]) == 2
