"""Cassettes of a real model's calls: the product's request shapes are recorded, and replay reproduces the run.

The model is `ScriptedOpenAIServer` over real HTTP, so the recorded calls are the ones opsgraph sends an
OpenAI-compatible server (JSON-schema `response_format`, the router's token limit), and the failures are
real ones (an HTTP 400, JSON the client cannot parse into the schema).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.routing import domains_named
from eval.runner import run_suite
from eval.suite import RunOptions
from eval.suites import get_suite
from tests.scripted_openai_server import Reply, ScriptedOpenAIServer


def _last_user(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user"))


def _outcomes(out: Path) -> list[tuple[str, str, object, object, object]]:
    """Each case's outcome; an error's text without where it was raised (a replay raises it elsewhere)."""
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return sorted(
        (r["id"], r["status"], r["score"], r["metrics"], (r["error"] or "").split(" (at ")[0]) for r in rows
    )


def test_routing_records_the_products_request_shape_and_replays_errors_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = get_suite("routing")
    chosen = suite.select(suite.cases(RunOptions()), 8)
    refused, garbled = chosen[0].data["text"], chosen[1].data["text"]

    def script(body: dict[str, Any]) -> Reply:
        first = body["messages"][-1]["role"] == "user" and len(body["messages"]) == 2
        text = _last_user(body) if first else str(body["messages"][1]["content"])
        if text == refused:
            return Reply(status=400, error="the template cannot render this request")
        if text == garbled:
            return Reply(content='{"agents": ["kubern')  # the client cannot parse it into the schema
        return Reply(content=json.dumps({"agents": domains_named(text)[:1], "reply": None}))

    recorded = tmp_path / "recorded"
    with ScriptedOpenAIServer(script) as server:
        monkeypatch.setenv("OPSGRAPH_BASE_URL", server.base_url)
        monkeypatch.setenv("OPSGRAPH_MODEL", "scripted-router")
        outcome = run_suite("routing", RunOptions(limit=8), recorded)
    assert outcome.summary["model"]["name"] == "scripted-router"
    assert outcome.summary["model"]["router_max_tokens"] == 160
    # what went over the wire: the router's schema and token limit
    assert server.requests and all(
        b["response_format"]["json_schema"]["name"] == "RouteDecision" and b["max_tokens"] == 160
        for b in server.requests
    )
    entries = [json.loads(line) for line in (recorded / "cassette.jsonl").read_text().splitlines()]
    assert len(entries) == len(server.requests) == 8 + 1  # the garbled decision is asked again once
    for entry in entries:
        assert entry["structured"] == "json_schema"
        assert entry["settings"]["response_format"]["json_schema"]["name"] == "RouteDecision"
        assert entry["settings"]["max_tokens"] == 160 and entry["settings"]["temperature"] == 0.0
    assert sum(e["error"] is not None for e in entries) == 1 + 2
    by_id = {r.id: r for r in outcome.results}
    assert by_id[chosen[0].id].status == "error" and "400" in (by_id[chosen[0].id].error or "")
    assert by_id[chosen[1].id].metrics["by_words"] is True
    accuracy = outcome.summary["metrics"]["accuracy"]["all"]
    assert accuracy == sum(r.status == "pass" for r in outcome.results) / 8  # the error counts as a miss

    replayed = tmp_path / "replayed"
    again = run_suite("routing", RunOptions(limit=8, replay=recorded / "cassette.jsonl"), replayed)
    assert _outcomes(replayed) == _outcomes(recorded)
    assert again.summary["model"]["name"] == "scripted-router"
    assert again.summary["model"]["replayed_from"] == str(recorded / "cassette.jsonl")

    # the prompts changed since recording (every key differs): strict replay refuses, in-order replay
    # still reads the model's recorded answers the same way
    edited = tmp_path / "edited.jsonl"
    edited.write_text(
        "".join(json.dumps({**e, "key": "0" * 24, "shape_key": "1" * 24}) + "\n" for e in entries)
    )
    strict = run_suite("routing", RunOptions(limit=8, replay=edited), tmp_path / "strict")
    assert all("CassetteMissError" in (r.error or "") for r in strict.results)
    run_suite("routing", RunOptions(limit=8, replay=edited, replay_in_order=True), tmp_path / "in-order")
    assert _outcomes(tmp_path / "in-order") == _outcomes(recorded)


def test_limit_spreads_routing_cases_over_kinds_and_agents() -> None:
    suite = get_suite("routing")
    cases = suite.cases(RunOptions())
    picked = suite.select(cases, 12)
    assert len(picked) == 12
    assert {c.data["kind"] for c in picked} == {"single", "cross", "none"}
    assert {a for c in picked for a in c.data["expected"]} == {"kubernetes", "iam", "cost"}
    assert [c.id for c in picked] != [c.id for c in cases[:12]]
    assert [c.id for c in picked] == sorted(c.id for c in picked)  # dataset order kept
    assert suite.select(cases, 500) == cases


def test_limit_keeps_the_first_cases_of_a_suite_without_strata() -> None:
    suite = get_suite("iam-compare")
    cases = suite.cases(RunOptions())
    assert suite.select(cases, 5) == cases[:5]
