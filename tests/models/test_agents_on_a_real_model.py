"""opsgraph's agents on a real model (SmolLM2-135M on llama.cpp), end to end over the OpenAI-compatible path.

A recording proxy sits between opsgraph and the server, so the tests assert what was sent and how it was
received: well-formed message lists only, no HTTP 400, a token limit on every call, the gate in front of
every write, one-line errors. They do not grade the tiny model's judgement (which agent, which namespace):
JSON-schema constrained output (`OPSGRAPH_TOOL_CALLS=json`) makes whatever it writes a valid step.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import BaseTool

from agents.errors import ModelError
from agents.gate import ApprovalDecision
from agents.models import AGENTS
from agents.models.local import LocalServer
from agents.runtime import Runtime
from opsgraph.settings import Settings
from tests.agents.recording_tools import RecordingCluster
from tests.scripted_openai_server import RecordingProxy, strict_template_problems


def _settings(base: Settings, proxy: RecordingProxy) -> Settings:
    return base.model_copy(
        # two steps per agent: a tool call, then (forced) an answer; three tools keep the prompt short
        update={"base_url": proxy.base_url, "tool_calls": "json", "max_tools": 3, "agent_max_steps": 2}
    )


def _assert_well_formed(proxy: RecordingProxy) -> None:
    assert proxy.requests and set(proxy.statuses) == {200}
    for body in proxy.requests:
        assert strict_template_problems(body["messages"]) == []
        assert body.get("max_tokens"), "every call sends a token limit"
        assert body.get("temperature") == 0.0


def test_routing_and_a_read_tool_over_the_real_server(
    real_model_server: LocalServer, real_model_settings: Settings
) -> None:
    cluster = RecordingCluster()
    with RecordingProxy(real_model_server.base_url) as proxy:
        with Runtime(_settings(real_model_settings, proxy), tools=cluster.tools()) as runtime:  # type: ignore[arg-type]
            result = runtime.run("list the pods in namespace shop", thread_id="read")
        _assert_well_formed(proxy)
    routing = [
        b
        for b in proxy.requests
        if b.get("response_format", {}).get("json_schema", {}).get("name") == "RouteDecision"
    ]
    assert routing and routing[0]["max_tokens"] == real_model_settings.router_max_tokens
    assert result.status == "done" and set(result.route) <= set(AGENTS)
    if result.route:  # in json mode an agent's first step is a tool call, whatever the model's choice
        assert cluster.calls and result.answer


def test_a_write_stops_at_the_gate_and_runs_once_after_approval(
    real_model_server: LocalServer, real_model_settings: Settings
) -> None:
    cluster = RecordingCluster()
    scale = cluster.tools()["kubernetes"][1]
    tools: dict[str, list[BaseTool]] = {agent: [scale] for agent in AGENTS}  # any route meets the write
    with RecordingProxy(real_model_server.base_url) as proxy:
        with Runtime(_settings(real_model_settings, proxy), tools=tools) as runtime:  # type: ignore[arg-type]
            paused = runtime.run("scale deploy web to 3 in shop", thread_id="write")
            assert paused.route, "the model routed the request nowhere"
            assert paused.status == "interrupted" and paused.approval is not None
            assert paused.approval.tool == "scale_deployment" and cluster.calls == []  # nothing written yet
            approved = paused.approval.args
            done = runtime.resume("write", ApprovalDecision(decision="approve"))
            audit = runtime.audit("write")
        _assert_well_formed(proxy)
    assert done.status in ("done", "interrupted")
    first = cluster.calls[0]
    assert first == ("scale_deployment", {"namespace": "default", **approved})
    assert next(a.decision for a in audit if a.tool == "scale_deployment") == "approved"


def test_a_cross_domain_request_keeps_every_history_well_formed(
    real_model_server: LocalServer, real_model_settings: Settings
) -> None:
    cluster = RecordingCluster()
    request = "list the pods in shop and explain the IAM policy p.json"
    with RecordingProxy(real_model_server.base_url) as proxy:
        with Runtime(_settings(real_model_settings, proxy), tools=cluster.tools()) as runtime:  # type: ignore[arg-type]
            first = runtime.run(request, thread_id="cross")
            second = runtime.run("now do that again", thread_id="cross")
        _assert_well_formed(proxy)
    assert first.status == second.status == "done"
    agent_calls = [
        b for b in proxy.requests if "response_format" not in b or "agent" in str(b["response_format"])
    ]
    for body in agent_calls:  # every agent's call ends with the request or its own tool results
        assert body["messages"][-1]["role"] in ("user", "tool")


def test_a_context_overflow_is_one_line_and_the_thread_goes_on(
    real_model_server: LocalServer, real_model_settings: Settings
) -> None:
    huge = "list the pods in shop " + "please " * 6_000  # well past the 4,096-token context
    with RecordingProxy(real_model_server.base_url) as proxy:
        settings: Any = _settings(real_model_settings, proxy)
        with Runtime(settings, tools=RecordingCluster().tools()) as runtime:  # type: ignore[arg-type]
            with pytest.raises(ModelError) as caught:
                runtime.run(huge, thread_id="overflow")
            after = runtime.run("list the pods in shop", thread_id="overflow")
    message = str(caught.value)
    assert "\n" not in message and proxy.base_url in message
    assert "does not fit the context" in message and "OPSGRAPH_LOCAL_CONTEXT_SIZE" in message
    assert after.status == "done"
