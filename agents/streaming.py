"""`AnswerStream`: which streamed model text reaches a person, token by token.

An agent's answer streams as it is written, except text that is (or may be) a tool call the model wrote
as text: a message that begins like one is held back, and a message that turns into one midway (prose,
then a ```json block or a `<tool_call>` tag) stops streaming where the call begins. When the message is
complete, an answer that was held back is shown whole (unless it is raw JSON, which the answer fallback
replaces by a readable answer, shown in turn).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from agents.middleware.answers import is_raw_json
from agents.middleware.text_calls import looks_like_call_start

__all__ = ["AnswerStream"]

_MARKERS = ("```", "<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", '{"name"', '{"tool', "<function")
_TAIL = max(len(m) for m in _MARKERS)
"""Characters kept back at the end of streamed text, in case they are the start of a marker."""


@dataclass
class _Message:
    text: str = ""
    emitted: int = 0
    blocked: bool = False


@dataclass
class AnswerStream:
    """Decide, chunk by chunk and message by message, what text to show (see the module docstring)."""

    hold_calls: bool = True
    """False for a model that never writes calls as text (the offline model): stream everything."""
    messages: dict[str, _Message] = field(default_factory=dict)

    def chunk(self, chunk: AIMessageChunk) -> Iterator[str]:
        """The text of `chunk` that may be shown now (possibly with text held back before it)."""
        state = self.messages.setdefault(chunk.id or "", _Message())
        state.text += chunk.text
        if not self.hold_calls:
            yield from self._emit(state, len(state.text))
            return
        if state.blocked or (state.emitted == 0 and looks_like_call_start(state.text)):
            return
        found = [i for i in (state.text.find(m, state.emitted) for m in _MARKERS) if i >= 0]
        if found:
            state.blocked = True
            yield from self._emit(state, min(found))
            return
        yield from self._emit(state, max(state.emitted, len(state.text) - _TAIL))

    def complete(self, message: BaseMessage) -> Iterator[str]:
        """The rest of a finished message that a person should still see."""
        if not isinstance(message, AIMessage) or message.tool_calls or not message.text.strip():
            return
        state = self.messages.setdefault(message.id or "", _Message())
        if state.emitted == 0 and is_raw_json(message.text):
            return  # data, not an answer: the answer fallback writes one
        if state.emitted == 0 or message.text.startswith(state.text[: state.emitted]):
            text = message.text
            state.text, state.blocked = text, False
            yield from self._emit(state, len(text))

    @staticmethod
    def _emit(state: _Message, upto: int) -> Iterator[str]:
        if upto > state.emitted:
            text = state.text[state.emitted : upto]
            state.emitted = upto
            if text:
                yield text
