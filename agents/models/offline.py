"""`OfflineChatModel`: a deterministic chat model that needs no key and no network.

It is a real `BaseChatModel`: it supports `bind_tools` and `with_structured_output`, and emits the same tool
calls a real model would for the documented vocabulary (`agents.models.vocabulary`). It exists so the whole
product runs and is tested offline; it is not a language model and says so for anything else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from agents.models.tool_binding import ToolBindingChatModel
from agents.models.vocabulary import AGENTS, Intent, help_text, parse_intents

__all__ = ["ROUTE_TOOL_NAME", "OfflineChatModel"]

ROUTE_TOOL_NAME = "RouteDecision"
"""The structured-output schema the supervisor asks for; the offline model answers it from the vocabulary."""


def _last_human(messages: Sequence[BaseMessage]) -> tuple[int, str]:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            return i, messages[i].text
    return -1, ""


def _call_id(index: int, intent: Intent) -> str:
    return f"offline_{index}_{intent.tool}"


class OfflineChatModel(ToolBindingChatModel):
    """Deterministic parser of the command vocabulary, speaking the chat-model protocol."""

    model_name: str = "offline"

    @property
    def _llm_type(self) -> str:
        return "opsgraph-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def _respond(self, messages: Sequence[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        names = {t["function"]["name"] for t in tools}
        start, text = _last_human(messages)
        intents = parse_intents(text)
        if ROUTE_TOOL_NAME in names:
            return self._route(intents, text)
        done = {m.tool_call_id: m for m in messages[start + 1 :] if isinstance(m, ToolMessage)}
        mine = [(i, intent) for i, intent in enumerate(intents) if intent.tool in names]
        for i, intent in mine:
            if _call_id(i, intent) not in done:
                call = {
                    "name": intent.tool,
                    "args": intent.args,
                    "id": _call_id(i, intent),
                    "type": "tool_call",
                }
                return AIMessage(content="", tool_calls=[call])
        if not mine:
            return AIMessage(
                content=help_text(text) if not intents else "Nothing for me to do in this request."
            )
        parts = [f"{intent.tool}: {done[_call_id(i, intent)].text}" for i, intent in mine]
        return AIMessage(content="\n\n".join(parts))

    def _route(self, intents: list[Intent], text: str) -> AIMessage:
        agents = [a for a in AGENTS if any(i.agent == a for i in intents)]
        agents.sort(key=lambda a: next(n for n, i in enumerate(intents) if i.agent == a))
        args: dict[str, Any] = {"agents": agents, "reply": None if agents else help_text(text)}
        call = {"name": ROUTE_TOOL_NAME, "args": args, "id": "offline_route", "type": "tool_call"}
        return AIMessage(content="", tool_calls=[call])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._respond(messages, list(kwargs.get("tools") or []))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._respond(messages, list(kwargs.get("tools") or []))
        if message.tool_calls:
            chunks = [
                {
                    "name": c["name"],
                    "args": json.dumps(c["args"]),
                    "id": c["id"],
                    "index": n,
                    "type": "tool_call_chunk",
                }
                for n, c in enumerate(message.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))  # type: ignore[arg-type]
            return
        words = message.text.split(" ")
        for n, word in enumerate(words):
            token = word if n == len(words) - 1 else word + " "
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager is not None:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
