"""With tools offered as text (`text`, `json`), an agent's later steps know the request and what it called.

In these modes a tool result reaches the model as a user turn. Qwen2.5-Coder-1.5B on `bench/real_model.py`
showed what happens when that turn is taken for the request: in `json` mode every step was treated as the
first (a call, never an answer) so the agent called tools until its step limit, and the tool subset was
chosen from the result's words, so each step offered other tools (and llama.cpp's prompt cache, keyed on
the prompt's start, was lost at every step). Runs against `ScriptedOpenAIServer` over the real client path.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from agents.middleware.shim import ANSWER_MAX_CHARS
from agents.runtime import Runtime
from opsgraph.settings import Settings
from tests.scripted_openai_server import Reply, ScriptedOpenAIServer, scripted_settings


def _tools(calls: list[str]) -> dict[str, list[BaseTool]]:
    def list_pods(namespace: str) -> str:
        """List the pods of a namespace."""
        calls.append("list_pods")
        return "web-1 CrashLoopBackOff: scale the deployment down or restart the rollout"

    def scale_deployment(name: str, replicas: int, namespace: str) -> str:
        """Scale a deployment to a number of replicas."""
        calls.append("scale_deployment")
        return "scaled"

    def restart_rollout(name: str, namespace: str) -> str:
        """Restart the rollout of a deployment."""
        calls.append("restart_rollout")
        return "restarted"

    kubernetes = [StructuredTool.from_function(f) for f in (list_pods, scale_deployment, restart_rollout)]
    return {"kubernetes": kubernetes, "iam": [], "cost": []}


def _schema(body: dict[str, Any]) -> dict[str, Any]:
    fmt = body.get("response_format") or {}
    return dict(fmt.get("json_schema", {}).get("schema", {}))


def _is_routing(body: dict[str, Any]) -> bool:
    return "agents" in json.dumps(_schema(body).get("properties", {}))


def _callable(body: dict[str, Any]) -> list[str]:
    """The tools a `json` step's output schema lets the model call."""
    schema = _schema(body)
    options = schema.get("anyOf", [schema])
    return [o["properties"]["name"]["const"] for o in options if "name" in o.get("properties", {})]


def _offers_answer(body: dict[str, Any]) -> bool:
    schema = _schema(body)
    options = schema.get("anyOf", [schema])
    return any("answer" in option.get("properties", {}) for option in options)


def _has_result(body: dict[str, Any]) -> bool:
    return any(m["role"] == "user" and m["content"].startswith("Result of") for m in body["messages"])


@pytest.mark.parametrize("mode", ["json", "text"])
def test_a_later_step_keeps_the_request_s_tools_and_may_answer(mode: str) -> None:
    answer = "web-1 is in CrashLoopBackOff."

    def script(body: dict[str, Any]) -> Reply:
        if _is_routing(body):
            return Reply(json.dumps({"agents": ["kubernetes"], "reply": None}))
        if _has_result(body):
            return Reply(json.dumps({"answer": answer}) if mode == "json" else answer)
        return Reply(json.dumps({"name": "list_pods", "arguments": {"namespace": "shop"}}))

    calls: list[str] = []
    with ScriptedOpenAIServer(script) as server:
        settings = Settings(
            model="scripted-model",
            base_url=server.base_url,
            checkpoint_url="memory",
            tool_calls=mode,
            max_tools=1,
        )
        with Runtime(settings, tools=_tools(calls)) as runtime:  # type: ignore[arg-type]
            result = runtime.run("list the pods in namespace shop", thread_id="t")
    steps = [b for b in server.requests if not _is_routing(b)]
    assert result.status == "done" and result.answer == answer and calls == ["list_pods"]
    assert len(steps) == 2 and server.rejected == []
    first, second = (b["messages"][0]["content"] for b in steps)
    # the catalog lists every tool of the agent, the same bytes on every step: a prompt cache serves it
    assert "- list_pods(" in first and "- scale_deployment(" in first and "- restart_rollout(" in first
    assert second == first
    if mode == "json":
        # the request's subset is what the output schema lets a step call, on every step
        assert _callable(steps[0]) == ["list_pods"] == _callable(steps[1])
        assert not _offers_answer(steps[0]) and _offers_answer(steps[1])  # a call first, then a choice


def test_a_json_answer_is_bounded_and_says_when_it_was_cut() -> None:
    """A small model that wanders (a pod list turned into a diagnosis ran 121 s) is stopped by the answer's
    length in the output schema, and the person is told the answer was cut."""
    long = "The pods look fine. " * 100

    def script(body: dict[str, Any]) -> Reply:
        if _is_routing(body):
            return Reply(json.dumps({"agents": ["kubernetes"], "reply": None}))
        if _has_result(body):
            options = _schema(body).get("anyOf", [_schema(body)])
            limit = next(
                o["properties"]["answer"]["maxLength"] for o in options if "answer" in o["properties"]
            )
            return Reply(json.dumps({"answer": long[:limit]}))  # what the grammar lets through
        return Reply(json.dumps({"name": "list_pods", "arguments": {"namespace": "shop"}}))

    with ScriptedOpenAIServer(script) as server:
        settings = scripted_settings(server, direct_answers="off")
        with Runtime(settings, tools=_tools([])) as runtime:  # type: ignore[arg-type]
            result = runtime.run("list the pods in namespace shop and tell me about them", thread_id="t")
    assert ANSWER_MAX_CHARS <= 2_000
    assert (result.answer or "").endswith(f"(cut at {ANSWER_MAX_CHARS:,} characters)")
