"""Record every model call of a run to a cassette, and replay a cassette so a rerun needs no model.

`RecordingChatModel` wraps any chat model: each call's request (messages, tool schemas, tool choice),
response, tokens and latency become a `CassetteEntry`. `ReplayChatModel` answers from a case's entries in
order, matching each request by a content key; a request that was never recorded raises `CassetteMissError`
instead of inventing an answer. Both speak the chat-model protocol (`bind_tools`, structured output).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ConfigDict, Field

from agents.models.tool_binding import ToolBindingChatModel
from eval.case import Usage
from eval.pricing import cost_usd

__all__ = [
    "CassetteEntry",
    "CassetteMissError",
    "RecordingChatModel",
    "ReplayChatModel",
    "load_cassette",
    "request_key",
]


class CassetteMissError(LookupError):
    """The cassette holds no response for this request: the suite or its prompts changed since recording."""


class CassetteEntry(BaseModel):
    """One recorded model call."""

    case_id: str
    seq: int
    key: str
    shape_key: str = ""
    """The key without tool outputs: matches when only the environment's answers changed (timestamps)."""
    model: str
    request: list[dict[str, Any]]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    response: dict[str, Any]
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0

    def usage(self) -> Usage:
        return Usage(
            calls=1,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            latency_s=self.latency_s,
            cost_usd=cost_usd(self.model, self.input_tokens, self.output_tokens),
        )


def _strip_ids(value: Any) -> Any:
    # Message ids are fresh per run; they must not change the key of an identical request.
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


def _without_tool_output(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("type") == "tool":
        return {**message, "data": {**message.get("data", {}), "content": ""}}
    return message


def request_key(
    messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]], tool_choice: Any, *, shape: bool = False
) -> str:
    """A content hash of a request: the same conversation, tools and choice give the same key.

    With `shape`, tool outputs are left out, so a conversation whose tools answered differently (a new
    timestamp or uid from a live cluster) still finds its recorded response.
    """
    dicts = [_strip_ids(message_to_dict(m)) for m in messages]
    body = {
        "messages": [_without_tool_output(d) for d in dicts] if shape else dicts,
        "tools": list(tools),
        "tool_choice": tool_choice,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _split_kwargs(kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
    tools = list(kwargs.pop("tools", None) or [])
    choice = kwargs.pop("tool_choice", None)
    rest = {k: v for k, v in kwargs.items() if not k.startswith("ls_")}
    return tools, choice, rest


class _CassetteModel(ToolBindingChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)


class RecordingChatModel(_CassetteModel):
    """Passes each call to `inner` and appends what happened to `entries`."""

    inner: BaseChatModel
    model_label: str
    case_id: str
    entries: list[CassetteEntry] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "opsgraph-recording"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools, choice, rest = _split_kwargs(dict(kwargs))
        runnable: Runnable[LanguageModelInput, BaseMessage] = (
            self.inner.bind_tools(tools, tool_choice=choice, **rest) if tools else self.inner.bind(**rest)
        )
        started = time.perf_counter()
        reply = runnable.invoke(messages, stop=stop)
        latency = time.perf_counter() - started
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=reply.content)
        usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        self.entries.append(
            CassetteEntry(
                case_id=self.case_id,
                seq=len(self.entries),
                key=request_key(messages, tools, choice),
                shape_key=request_key(messages, tools, choice, shape=True),
                model=self.model_label,
                request=[message_to_dict(m) for m in messages],
                tools=tools,
                response=message_to_dict(reply),
                input_tokens=int(usage.get("input_tokens", 0)),
                output_tokens=int(usage.get("output_tokens", 0)),
                latency_s=round(latency, 6),
            )
        )
        return ChatResult(generations=[ChatGeneration(message=reply)])


class ReplayChatModel(_CassetteModel):
    """Answers each call from the recorded entries of one case; never calls a model."""

    case_id: str
    recorded: list[CassetteEntry]
    used: list[CassetteEntry] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "opsgraph-replay"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools, choice, _ = _split_kwargs(dict(kwargs))
        key = request_key(messages, tools, choice)
        taken = {id(e) for e in self.used}
        entry = next((e for e in self.recorded if id(e) not in taken and e.key == key), None)
        if entry is None:
            shape = request_key(messages, tools, choice, shape=True)
            entry = next((e for e in self.recorded if id(e) not in taken and e.shape_key == shape), None)
        if entry is None:
            raise CassetteMissError(
                f"case {self.case_id}: no recorded response for model call #{len(self.used) + 1} "
                f"(request key {key}); record the cassette again"
            )
        self.used.append(entry)
        (reply,) = messages_from_dict([entry.response])
        return ChatResult(generations=[ChatGeneration(message=reply)])


def load_cassette(path: Path) -> dict[str, list[CassetteEntry]]:
    """A cassette's entries grouped by case id, in recording order."""
    grouped: dict[str, list[CassetteEntry]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = CassetteEntry.model_validate_json(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not a cassette entry: {exc}") from exc
        grouped.setdefault(entry.case_id, []).append(entry)
    for entries in grouped.values():
        entries.sort(key=lambda e: e.seq)
    return grouped


def dump_entries(entries: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
