"""`RawArgsChatOpenAI`: LangChain's OpenAI chat model, keeping each tool call's arguments as the model wrote them.

LangChain parses tool-call arguments leniently: a streamed `{"namespace": "sh` becomes
`{"namespace": "sh"}`, a lone `{` becomes `{}`, and a non-streamed `null` or `[]` becomes `{}`. A tool
would then run on guessed arguments (often the default namespace). This subclass records the raw argument
text of every call in `additional_kwargs["raw_tool_calls"]` (`{index: {"id", "args"}}`; streamed
fragments concatenate under LangChain's own chunk-merge rules, so the ids match the merged calls'), and
`agents.middleware.arguments` parses that text strictly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

__all__ = ["RAW_TOOL_CALLS", "RawArgsChatOpenAI", "raw_arguments"]

RAW_TOOL_CALLS = "raw_tool_calls"


def _record_chunk(chunk: ChatGenerationChunk) -> ChatGenerationChunk:
    message = chunk.message
    if isinstance(message, AIMessageChunk) and message.tool_call_chunks:
        raw = {
            str(c.get("index") if c.get("index") is not None else n): {
                "id": c.get("id") or "",
                "args": c.get("args") or "",
            }
            for n, c in enumerate(message.tool_call_chunks)
        }
        message.additional_kwargs = {**message.additional_kwargs, RAW_TOOL_CALLS: raw}
    return chunk


def raw_arguments(message: BaseMessage) -> dict[str, str]:
    """The raw argument text of each tool call of `message`, by call id (empty when not recorded)."""
    raw = message.additional_kwargs.get(RAW_TOOL_CALLS)
    if not isinstance(raw, dict):
        return {}
    return {str(v.get("id", "")): str(v.get("args", "")) for v in raw.values() if isinstance(v, dict)}


class RawArgsChatOpenAI(ChatOpenAI):
    """`ChatOpenAI` that keeps the raw text of tool-call arguments (see the module docstring)."""

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
            yield _record_chunk(chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in super()._astream(messages, stop=stop, run_manager=run_manager, **kwargs):
            yield _record_chunk(chunk)

    def _create_chat_result(
        self, response: dict[str, Any] | openai.BaseModel, generation_info: dict[str, Any] | None = None
    ) -> ChatResult:
        result = super()._create_chat_result(response, generation_info)
        data = response if isinstance(response, dict) else response.model_dump(warnings=False)
        for generation, choice in zip(result.generations, data.get("choices") or [], strict=False):
            calls = (choice.get("message") or {}).get("tool_calls") or []
            if calls:
                raw = {
                    str(n): {
                        "id": c.get("id") or "",
                        "args": (c.get("function") or {}).get("arguments") or "",
                    }
                    for n, c in enumerate(calls)
                }
                message = generation.message
                message.additional_kwargs = {**message.additional_kwargs, RAW_TOOL_CALLS: raw}
        return result
