"""`TextToolCalls`: the tool-call shim for models that write their calls as text.

`auto` (the default for real models) keeps the native tool API and, when a response has no tool call but
its text holds one for a tool the agent has, turns that text into the call. `text` is for servers or
models without a tool API: the tools are described in the system message instead of being bound, calls
are read from the text, and the history shows calls and results as text (see `agents.conversation`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agents.middleware.text_calls import find_text_calls, tool_catalog
from agents.models.openai_compat import RAW_TOOL_CALLS

__all__ = ["TextToolCalls"]


def _call_message(message: AIMessage, names: Sequence[str]) -> AIMessage | None:
    calls = find_text_calls(message.text, names) if not message.tool_calls else []
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


class TextToolCalls(AgentMiddleware):
    """Read tool calls from text (`auto`), or offer tools only as text and read calls from it (`text`)."""

    def __init__(self, mode: Literal["auto", "text"], names: Sequence[str]) -> None:
        super().__init__()
        self.mode, self.names = mode, list(names)

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        if self.mode == "text" and request.tools:
            schemas = [convert_to_openai_tool(t) for t in request.tools if isinstance(t, BaseTool | dict)]
            prompt = request.system_message.text if request.system_message else ""
            request = request.override(tools=[], system_message=SystemMessage(prompt + tool_catalog(schemas)))
        response = handler(request)
        result = list(response.result)
        for i, message in enumerate(result):
            if isinstance(message, AIMessage):
                converted = _call_message(message, self.names)
                if converted is not None:
                    result[i] = converted
        return ModelResponse(result=result, structured_response=response.structured_response)
