"""`TextToolCalls`: the tool-call shim for models that write their calls as text.

- `auto` (the default for real models) keeps the native tool API and, when a response has no tool call but
  its text holds one for a tool the agent has, turns that text into the call.
- `text` is for servers or models without a tool API: the tools are described in the system message instead
  of being bound, calls are read from the text, and the history shows calls and results as text (see
  `agents.conversation`).
- `json` is `text` with the server's JSON-schema (grammar) constrained output, for llama.cpp, vLLM, Ollama
  and OpenAI: each step must be `{"name": TOOL, "arguments": {...}}` with arguments that match the tool's
  schema, or `{"answer": "..."}`. An agent's first step for a request must be a tool call, so even a tiny
  model grounds its answer in a tool result instead of inventing cluster state.

In `text` and `json` modes the system message lists all the agent's tools, the same bytes on every call
of every request, final steps included: a server's prompt cache (llama.cpp's) then serves the agent's
instructions and catalog from memory and processes only what follows. The tools a step may call are the
request's subset (`ToolSubset`), which only the output schema (`json`) names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

import openai
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agents.conversation import request_index
from agents.middleware.text_calls import find_text_calls, tool_catalog
from agents.models.openai_compat import RAW_TOOL_CALLS

__all__ = ["TextToolCalls", "step_schema"]

ShimMode = Literal["auto", "text", "json"]
ANSWER_MAX_CHARS = 2_000
"""Longest answer a `json` step may write: the grammar closes it there. A small model on a CPU writes ~8
tokens a second, and one that wanders (a pod list that turned into a diagnosis) would otherwise run to
`OPSGRAPH_MAX_TOKENS`, minutes; an answer that reaches the limit says it was cut."""


def step_schema(tools: list[dict[str, Any]], *, allow_answer: bool) -> dict[str, Any]:
    """The JSON schema of one agent step: a call of one of `tools` (OpenAI schemas), or an answer."""
    options: list[dict[str, Any]] = []
    for tool in tools:
        fn = tool.get("function", tool)
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        options.append(
            {
                "type": "object",
                "properties": {"name": {"const": fn["name"]}, "arguments": params},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    if allow_answer or not options:
        options.append(
            {
                "type": "object",
                "properties": {"answer": {"type": "string", "maxLength": ANSWER_MAX_CHARS}},
                "required": ["answer"],
                "additionalProperties": False,
            }
        )
    return {"anyOf": options} if len(options) > 1 else options[0]


_PARTIAL_ANSWER = re.compile(r'^\s*\{\s*"answer"\s*:\s*"(?P<text>.*)$', re.S)


def _answer_of(text: str) -> str | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        m = _PARTIAL_ANSWER.match(text)  # an answer cut at the token limit: keep what was written
        if not m:
            return None
        partial = m.group("text").rstrip("\\")
        try:
            return str(json.loads(f'"{partial}"')) + " … (cut at the token limit)"
        except json.JSONDecodeError:
            return partial + " … (cut at the token limit)"
    answer = value.get("answer") if isinstance(value, dict) else None
    if isinstance(answer, str) and len(answer) >= ANSWER_MAX_CHARS:
        return answer + f" … (cut at {ANSWER_MAX_CHARS:,} characters)"
    return answer if isinstance(answer, str) else None


def _call_model(
    request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]], agent: str
) -> ModelResponse[Any]:
    """Call the model; JSON-schema output cut at the token limit comes back as what was written."""
    try:
        return handler(request)
    except openai.LengthFinishReasonError as exc:
        choices = exc.completion.choices if exc.completion is not None else []
        text = (choices[0].message.content or "") if choices else ""
        cut = AIMessage(text, name=agent, response_metadata={"finish_reason": "length"})
        return ModelResponse(result=[cut])


def _converted(message: AIMessage, names: Sequence[str], mode: ShimMode) -> AIMessage | None:
    if message.tool_calls:
        return None
    if mode == "json":
        answer = _answer_of(message.text)
        if answer is not None:
            return AIMessage(
                answer, name=message.name, id=message.id, response_metadata=message.response_metadata
            )
    calls = find_text_calls(message.text, names)
    if not calls:
        return None
    tool_calls, raw = [], {}
    for n, call in enumerate(calls):
        args = call.args
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                args = {}
        tool_calls.append(
            {
                "name": call.name,
                "args": args if isinstance(args, dict) else {},
                "id": call.id,
                "type": "tool_call",
            }
        )
        raw[str(n)] = {"id": call.id, "args": call.raw_args}
    return AIMessage(
        content="",
        tool_calls=tool_calls,
        name=message.name,
        id=message.id,
        additional_kwargs={RAW_TOOL_CALLS: raw, "written_as_text": message.text},
        response_metadata=message.response_metadata,
        usage_metadata=message.usage_metadata,
    )


def _first_step(request: ModelRequest[Any]) -> bool:
    """True when the agent has not stepped yet for the request (its results, sent as user turns in these
    modes, do not count as the request)."""
    later = request.messages[request_index(request.messages) + 1 :]
    return not any(isinstance(m, AIMessage) for m in later)


class TextToolCalls(AgentMiddleware):
    """Read tool calls from text; in `text` and `json` modes offer the tools as text (see the docstring)."""

    def __init__(self, agent: str, mode: ShimMode, tools: Sequence[BaseTool]) -> None:
        super().__init__()
        self.agent, self.mode, self.names = agent, mode, [t.name for t in tools]
        self.catalog = tool_catalog([convert_to_openai_tool(t) for t in tools], answer_as_json=mode == "json")
        """Every tool of the agent, described once: byte-stable, so a prompt cache keeps it."""

    def _with_catalog(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        prompt = request.system_message.text if request.system_message else ""
        return request.override(tools=[], system_message=SystemMessage(prompt + self.catalog))

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        if not request.tools:  # a final step (see `StepLimit`): an answer, whatever the text holds
            if self.mode in ("text", "json"):
                request = self._with_catalog(request)  # the same prefix as the steps before it
            if self.mode == "json":
                settings = dict(request.model_settings)
                settings["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "agent_answer", "schema": step_schema([], allow_answer=True)},
                }
                request = request.override(model_settings=settings)
            response = _call_model(request, handler, self.agent)
            return ModelResponse(
                result=[self._answer(m) for m in response.result],
                structured_response=response.structured_response,
            )
        if self.mode in ("text", "json"):
            settings = dict(request.model_settings)
            if self.mode == "json":
                schemas = [convert_to_openai_tool(t) for t in request.tools if isinstance(t, BaseTool | dict)]
                schema = step_schema(schemas, allow_answer=not _first_step(request))
                settings["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "agent_step", "schema": schema},
                }
            request = self._with_catalog(request).override(model_settings=settings)
        response = _call_model(request, handler, self.agent) if self.mode == "json" else handler(request)
        result = list(response.result)
        for i, message in enumerate(result):
            if isinstance(message, AIMessage):
                converted = _converted(message, self.names, self.mode)
                if converted is not None:
                    result[i] = converted
        return ModelResponse(result=result, structured_response=response.structured_response)

    def _answer(self, message: Any) -> Any:
        if self.mode == "json" and isinstance(message, AIMessage) and not message.tool_calls:
            answer = _answer_of(message.text)
            if answer is not None:
                return AIMessage(
                    answer, name=message.name, id=message.id, response_metadata=message.response_metadata
                )
        return message
