"""Record every model call of a run to a cassette, and replay a cassette so a rerun needs no model.

`RecordingChatModel` wraps any chat model: each call's request (messages, tool schemas, tool choice, and
the call's settings: a JSON-schema `response_format`, the token limit, the temperature), its response
or its error, tokens and latency become a `CassetteEntry`. Structured output goes the way the wrapped
model would send it: JSON-schema `response_format` for OpenAI and OpenAI-compatible servers (what the
product's router uses there), a forced tool call otherwise (the offline model). A per-call token limit
that the caller sets on a copy of the model (`model_copy(update={"max_tokens": ...})`, as the router does)
reaches the wrapped model.

`ReplayChatModel` answers from a case's entries in order, matching each request by a content key; a
recorded error is raised again (an HTTP status, a length stop, invalid JSON for the schema), so a replayed
run gives the same results, errors included. A request that was never recorded raises `CassetteMissError`
instead of inventing an answer.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.models.offline import OfflineChatModel
from agents.models.tool_binding import ToolBindingChatModel
from eval.case import Usage
from eval.cassette_errors import RecordedError, raise_recorded, recorded_error
from eval.pricing import cost_usd

__all__ = [
    "CassetteEntry",
    "CassetteMissError",
    "OfflineReplayChatModel",
    "RecordedError",
    "RecordingChatModel",
    "ReplayChatModel",
    "StructuredMethod",
    "load_cassette",
    "request_key",
    "structured_method_of",
]

StructuredMethod = Literal["json_schema", "function_calling"]
_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens", "num_predict")


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
    settings: dict[str, Any] = Field(default_factory=dict)
    """What went with the messages: `tool_choice`, `response_format` (as JSON schema), `max_tokens`,
    `temperature`."""
    structured: StructuredMethod = "function_calling"
    """How the recorded model gives structured output; a replay does the same."""
    run_settings: dict[str, Any] = Field(default_factory=dict)
    """The opsgraph settings that shape model calls (tool-call mode, tool subset, limits), for a replay."""
    response: dict[str, Any] | None = None
    error: RecordedError | None = None
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
    # Message and tool-call ids are fresh per run (a text call's id is random); they must not change the
    # key of an identical request.
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k not in ("id", "tool_call_id")}
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


_TEXT_RESULT_PREFIX = "Result of "
"""How `agents.conversation` hands a tool result to a model that takes no tool messages (text tool calls)."""


def _without_tool_output(message: dict[str, Any]) -> dict[str, Any]:
    data = message.get("data", {})
    content = data.get("content")
    text_result = isinstance(content, str) and content.startswith(_TEXT_RESULT_PREFIX)
    if message.get("type") == "tool" or (message.get("type") == "human" and text_result):
        return {**message, "data": {**data, "content": ""}}
    return message


def response_format_json(value: Any) -> Any:
    """A `response_format` as JSON: a pydantic class becomes the JSON schema sent for it."""
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {
            "type": "json_schema",
            "json_schema": {"name": value.__name__, "schema": value.model_json_schema(), "strict": True},
        }
    return value


def _key_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: settings[k] for k in ("response_format", "max_tokens") if settings.get(k) is not None}


def request_key(
    messages: Sequence[BaseMessage],
    tools: Sequence[dict[str, Any]],
    tool_choice: Any,
    *,
    shape: bool = False,
    settings: dict[str, Any] | None = None,
) -> str:
    """A content hash of a request: the same conversation, tools, choice and output schema give the same key.

    With `shape`, tool outputs are left out, so a conversation whose tools answered differently (a new
    timestamp or uid from a live cluster) still finds its recorded response.
    """
    dicts = [_strip_ids(message_to_dict(m)) for m in messages]
    body = {
        "messages": [_without_tool_output(d) for d in dicts] if shape else dicts,
        "tools": list(tools),
        "tool_choice": tool_choice,
        **_key_settings(settings or {}),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _split_kwargs(kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
    tools = list(kwargs.pop("tools", None) or [])
    choice = kwargs.pop("tool_choice", None)
    rest = {k: v for k, v in kwargs.items() if not k.startswith("ls_")}
    return tools, choice, rest


def _json_safe(value: Any) -> Any:
    return json.loads(
        json.dumps(value, default=lambda o: o.model_dump() if isinstance(o, BaseModel) else str(o))
    )


def _parsed(message: BaseMessage, *, schema: type[BaseModel]) -> BaseModel | None:
    """The structured value of a JSON-schema answer, as `ChatOpenAI` reads it (the client parsed it)."""
    parsed = message.additional_kwargs.get("parsed")
    if isinstance(parsed, schema):
        return parsed
    if isinstance(parsed, dict):
        return schema.model_validate(parsed)
    if isinstance(message, AIMessage) and message.tool_calls:
        return None
    return schema.model_validate_json(message.text)


def structured_method_of(model: BaseChatModel) -> StructuredMethod:
    """How `model.with_structured_output` asks for a schema: JSON-schema output for OpenAI's chat models
    (and every OpenAI-compatible server through them), a forced tool call for the others."""
    from langchain_openai.chat_models.base import BaseChatOpenAI

    return "json_schema" if isinstance(model, BaseChatOpenAI) else "function_calling"


class _CassetteModel(ToolBindingChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    max_tokens: int | None = None
    """A per-call token limit a caller set on a copy of this model (the router does); None: the model's own."""
    structured: StructuredMethod = "function_calling"

    def with_structured_output(  # type: ignore[override]
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        if self.structured != "json_schema" or not (
            isinstance(schema, type) and issubclass(schema, BaseModel)
        ):
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        # As ChatOpenAI's default method: the schema goes as `response_format`, the client parses the answer.
        llm = self.bind(response_format=schema)
        parser: Callable[[BaseMessage], BaseModel | None] = partial(_parsed, schema=schema)
        if not include_raw:
            return llm | RunnableLambda(parser)
        assign = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | RunnableLambda(parser), parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | assign.with_fallbacks([fallback], exception_key="parsing_error")


class RecordingChatModel(_CassetteModel):
    """Passes each call to `inner` and appends what happened to `entries`."""

    inner: BaseChatModel
    model_label: str
    case_id: str
    run_settings: dict[str, Any] = Field(default_factory=dict)
    entries: list[CassetteEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _structured_as_inner(self) -> RecordingChatModel:
        self.structured = structured_method_of(self.inner)
        return self

    @property
    def _llm_type(self) -> str:
        return "opsgraph-recording"

    def _inner_for_call(self) -> BaseChatModel:
        """`inner` with what the caller set on this copy of the recorder: the token limit, and no streaming
        (the router sets both, and the OpenAI client then parses the JSON-schema answer whole)."""
        update: dict[str, Any] = {}
        if self.disable_streaming is not self.inner.disable_streaming:
            update["disable_streaming"] = self.disable_streaming
        field = next((f for f in _TOKEN_FIELDS if f in type(self.inner).model_fields), None)
        if self.max_tokens is not None and field is not None:
            update[field] = self.max_tokens
        if "stream_usage" in type(self.inner).model_fields and not self.inner.stream_usage:  # type: ignore[attr-defined]
            update["stream_usage"] = (
                True  # a streamed answer reports its tokens too (they go in the cassette)
            )
        return self.inner.model_copy(update=update) if update else self.inner

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools, choice, rest = _split_kwargs(dict(kwargs))
        inner = self._inner_for_call()
        runnable: Runnable[LanguageModelInput, BaseMessage] = (
            inner.bind_tools(tools, tool_choice=choice, **rest) if tools else inner.bind(**rest)
        )
        settings = {
            "tool_choice": choice,
            "response_format": response_format_json(rest.get("response_format")),
            "max_tokens": next((getattr(inner, f) for f in _TOKEN_FIELDS if getattr(inner, f, None)), None),
            "temperature": getattr(inner, "temperature", None),
        }
        settings = {k: v for k, v in settings.items() if v is not None}
        key_settings = {**settings, "max_tokens": self.max_tokens}
        entry = CassetteEntry(
            case_id=self.case_id,
            seq=len(self.entries),
            key=request_key(messages, tools, choice, settings=key_settings),
            shape_key=request_key(messages, tools, choice, shape=True, settings=key_settings),
            model=self.model_label,
            request=[message_to_dict(m) for m in messages],
            tools=tools,
            settings=_json_safe(settings),
            structured=self.structured,
            run_settings=self.run_settings,
        )
        started = time.perf_counter()
        try:
            reply = runnable.invoke(messages, stop=stop)
        except Exception as exc:
            entry.error, entry.latency_s = recorded_error(exc), round(time.perf_counter() - started, 6)
            self.entries.append(entry)
            raise
        entry.latency_s = round(time.perf_counter() - started, 6)
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=reply.content)
        usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        entry.response = _json_safe(message_to_dict(reply))
        entry.input_tokens = int(usage.get("input_tokens", 0))
        entry.output_tokens = int(usage.get("output_tokens", 0))
        self.entries.append(entry)
        return ChatResult(generations=[ChatGeneration(message=reply)])


class ReplayChatModel(_CassetteModel):
    """Answers each call from the recorded entries of one case; never calls a model."""

    case_id: str
    recorded: list[CassetteEntry]
    used: list[CassetteEntry] = Field(default_factory=list)
    in_order: bool = False
    """When no entry matches a request, answer with the next recorded one: for a cassette recorded before
    prompts changed, to test how a suite reads a real model's answers (the call sequence must still hold)."""

    @model_validator(mode="after")
    def _structured_as_recorded(self) -> ReplayChatModel:
        if self.recorded:
            self.structured = self.recorded[0].structured
        return self

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
        tools, choice, rest = _split_kwargs(dict(kwargs))
        settings = {
            "response_format": response_format_json(rest.get("response_format")),
            "max_tokens": self.max_tokens,
        }
        key = request_key(messages, tools, choice, settings=settings)
        taken = {id(e) for e in self.used}
        entry = next((e for e in self.recorded if id(e) not in taken and e.key == key), None)
        if entry is None:
            shape = request_key(messages, tools, choice, shape=True, settings=settings)
            entry = next((e for e in self.recorded if id(e) not in taken and e.shape_key == shape), None)
        if entry is None and self.in_order:
            entry = next((e for e in self.recorded if id(e) not in taken), None)
        if entry is None:
            raise CassetteMissError(
                f"case {self.case_id}: no recorded response for model call #{len(self.used) + 1} "
                f"(request key {key}); record the cassette again"
            )
        self.used.append(entry)
        if entry.error is not None or entry.response is None:
            raise_recorded(entry.error, rest.get("response_format"))
        (reply,) = messages_from_dict([entry.response])
        return ChatResult(generations=[ChatGeneration(message=reply)])


class OfflineReplayChatModel(ReplayChatModel, OfflineChatModel):
    """A replay of a run on the offline model. The runtime gives the offline model every tool natively
    (`agents.runtime.model_policy`), so its replay must count as the offline model for the calls to match;
    it still answers only from the cassette, never by parsing."""

    _stream = BaseChatModel._stream  # type: ignore[assignment]  # answer whole, from `_generate`, as recorded


def load_cassette(path: Path) -> dict[str, list[CassetteEntry]]:
    """A cassette's entries grouped by case id, in recording order (`.gz`: gzip-compressed)."""
    grouped: dict[str, list[CassetteEntry]] = {}
    data = path.read_bytes()
    text = gzip.decompress(data).decode("utf-8") if path.suffix == ".gz" else data.decode("utf-8")
    for number, line in enumerate(text.splitlines(), 1):
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
