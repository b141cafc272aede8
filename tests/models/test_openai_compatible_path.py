"""A real model (SmolLM2-135M on llama.cpp) through the OpenAI-compatible HTTP path opsgraph uses.

These assert the protocol (answers arrive, tool requests come back well formed, JSON-schema output parses,
the settings' `max_tokens` and temperature reach the server), never the tiny model's judgement.
"""

from __future__ import annotations

import json
from typing import Literal

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from agents.models import make_chat_model
from agents.models.factory import CompatibleServerChat
from agents.models.local import LocalServer
from agents.runtime import model_error
from opsgraph.settings import Settings


@tool
def list_pods(namespace: str) -> str:
    """List the pods in a Kubernetes namespace."""
    return f"{namespace}: web-1 Running"


@tool
def scale_deployment(name: str, replicas: int, namespace: str) -> str:
    """Scale a Deployment to a number of replicas."""
    return f"scaled {namespace}/{name} to {replicas}"


class Route(BaseModel):
    agents: list[Literal["kubernetes", "iam", "cost"]] = Field(max_length=3)


def test_the_chat_completions_endpoint_answers(real_model_settings: Settings) -> None:
    model = make_chat_model(real_model_settings)
    assert isinstance(model, CompatibleServerChat)
    reply = model.invoke([HumanMessage("Say hello.")])
    assert isinstance(reply, AIMessage) and reply.text.strip()
    usage = reply.usage_metadata
    assert usage is not None and 0 < usage["output_tokens"] <= real_model_settings.max_tokens


def test_max_tokens_from_the_settings_reaches_the_server(real_model_settings: Settings) -> None:
    settings = real_model_settings.model_copy(update={"max_tokens": 3})
    reply = make_chat_model(settings).invoke([HumanMessage("Write a long story about a cluster.")])
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 3


def test_temperature_zero_is_repeatable(real_model_settings: Settings) -> None:
    model = make_chat_model(real_model_settings.model_copy(update={"max_tokens": 12}))
    question = [HumanMessage("Name a Kubernetes object.")]
    assert model.invoke(question).text == model.invoke(question).text


def test_streaming_delivers_the_answer_in_chunks(real_model_settings: Settings) -> None:
    model = make_chat_model(real_model_settings.model_copy(update={"max_tokens": 16}))
    chunks = list(model.stream([HumanMessage("Count from one to five.")]))
    assert len(chunks) > 1 and "".join(c.text for c in chunks).strip()


def test_a_request_with_tools_gets_a_well_formed_response(real_model_settings: Settings) -> None:
    model = make_chat_model(real_model_settings).bind_tools([list_pods, scale_deployment])
    reply = model.invoke(
        [SystemMessage("You operate Kubernetes with the tools."), HumanMessage("List the pods in payments.")]
    )
    assert isinstance(reply, AIMessage)
    assert not reply.invalid_tool_calls
    for call in reply.tool_calls:  # SmolLM2's template has no tool syntax, so usually none; any must be valid
        assert call["name"] in {"list_pods", "scale_deployment"} and isinstance(call["args"], dict)
    assert reply.tool_calls or reply.text.strip()


def test_a_tool_call_and_its_result_in_the_history_are_accepted(real_model_server: LocalServer) -> None:
    """The shape every agent turn after a tool call sends: assistant tool_calls, then the tool's message."""
    call = {
        "id": "call-1",
        "type": "function",
        "function": {"name": "list_pods", "arguments": '{"namespace": "shop"}'},
    }
    body = {
        "model": "test",
        "max_tokens": 16,
        "temperature": 0,
        "tools": [convert_to_openai_tool(list_pods)],
        "messages": [
            {"role": "user", "content": "List the pods in shop."},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call-1", "content": "shop: web-1 Running"},
        ],
    }
    response = httpx.post(f"{real_model_server.base_url}/chat/completions", json=body, timeout=120)
    assert response.status_code == 200, response.text
    message = response.json()["choices"][0]["message"]
    assert message["role"] == "assistant"
    for call in message.get("tool_calls") or []:
        json.loads(call["function"]["arguments"])


def test_langchain_tool_messages_round_trip(real_model_settings: Settings) -> None:
    model = make_chat_model(real_model_settings.model_copy(update={"max_tokens": 16})).bind_tools([list_pods])
    history = [
        HumanMessage("List the pods in shop."),
        AIMessage("", tool_calls=[{"id": "call-1", "name": "list_pods", "args": {"namespace": "shop"}}]),
        ToolMessage("shop: web-1 Running", tool_call_id="call-1"),
    ]
    assert isinstance(model.invoke(history), AIMessage)


def test_json_schema_output_is_constrained(real_model_settings: Settings) -> None:
    # the grammar bounds the items (maxItems) but lets the model indent: room for a pretty-printed answer
    settings = real_model_settings.model_copy(update={"max_tokens": 256})
    model = make_chat_model(settings).with_structured_output(Route, method="json_schema")
    route = model.invoke([HumanMessage("Which agents handle: list the pods in payments? Answer as JSON.")])
    assert isinstance(route, Route)
    assert set(route.agents) <= {"kubernetes", "iam", "cost"}


def test_a_context_overflow_names_the_setting(real_model_settings: Settings) -> None:
    model = make_chat_model(real_model_settings)
    with pytest.raises(openai.BadRequestError) as caught:
        model.invoke([HumanMessage("pods " * 6000)])
    message = str(model_error(caught.value, f"smollm2 at {real_model_settings.base_url}", "kubernetes"))
    assert "\n" not in message
    assert message.startswith(
        f"the request does not fit the context of the model smollm2 at {real_model_settings.base_url}"
    )
    assert "(the kubernetes agent)" in message and "OPSGRAPH_LOCAL_CONTEXT_SIZE" in message
    assert "exceeds the available context size (4096 tokens)" in message
