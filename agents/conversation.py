"""What each model call sees of a thread: a history every OpenAI-compatible chat template accepts.

The thread keeps one `messages` channel for everything (the supervisor's replies, every agent's tool calls
and answers), which is what people and the checkpoints need. A model call needs less, in a stricter shape:
strict chat templates (llama.cpp's, vLLM's Llama and Mistral ones) reject two assistant messages in a
row, a tool message without its call, or a conversation that does not alternate, and a model continues an
assistant message that ends the list instead of answering. So each call gets a *view*:

- earlier requests as alternating user / assistant turns: the request and its final answer only (their
  tool traffic is dropped, long texts are cut, the oldest turns beyond a limit are left out);
- the current request as the last user turn;
- after it, the calling agent's own tool calls and results for this request, and nothing of other agents'
  (their answers for this request are context, handed over in the system message).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage

__all__ = [
    "AgentView",
    "agent_view",
    "current_request",
    "prior_turns",
    "request_index",
    "shape_problems",
    "tools_called",
]

MAX_TURNS = 6
"""Earlier requests kept in a view (each a user and an assistant turn)."""
MAX_TURN_CHARS = 1_500
"""Longest text kept of an earlier turn; the rest is cut with a note."""
NO_ANSWER = "(this request ended without an answer)"
TEXT_CALLS = "opsgraph_text_calls"
"""Key of `additional_kwargs` on a call that a view wrote out as text: the names of the tools it calls."""
TEXT_RESULT = "opsgraph_text_result"
"""Key of `additional_kwargs` on a tool result that a view sends as a user turn: the tool's name. Neither key
reaches a server (the OpenAI client sends only a message's role, content, name and tool calls)."""


@dataclass
class AgentView:
    """The messages one agent's model call sends, and what other agents answered for the same request."""

    messages: list[AnyMessage]
    others: list[tuple[str, str]] = field(default_factory=list)

    def context_note(self) -> str:
        """A system-message paragraph with the other agents' answers to the current request, or ''."""
        if not self.others:
            return ""
        lines = "\n".join(f"- {agent}: {_cut(text, MAX_TURN_CHARS)}" for agent, text in self.others)
        return (
            "\n\nOther agents already handled their part of the current request; use their answers as "
            f"context and do only your part:\n{lines}"
        )


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "… (cut)"


def _last_human(messages: Sequence[BaseMessage]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            return i
    return -1


def request_index(messages: Sequence[BaseMessage]) -> int:
    """Where the request being handled is in `messages`, a thread or an agent's view of one: the latest
    user message that is not a tool result sent as text (-1 when there is none). In a view with tools as
    text, every result is a user turn; the request is the one before them."""
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if isinstance(message, HumanMessage) and TEXT_RESULT not in message.additional_kwargs:
            return i
    return -1


def tools_called(messages: Sequence[BaseMessage]) -> list[str]:
    """The names of the tools that the calls in `messages` name, in order: real tool calls and the calls
    a view wrote out as text."""
    names: list[str] = []
    for message in messages:
        if isinstance(message, AIMessage):
            names += [c["name"] for c in message.tool_calls]
            names += [str(n) for n in message.additional_kwargs.get(TEXT_CALLS, ())]
    return names


def _is_answer(message: BaseMessage) -> bool:
    return isinstance(message, AIMessage) and not message.tool_calls and bool(message.text.strip())


def current_request(messages: Sequence[BaseMessage]) -> HumanMessage | None:
    """The latest user message (the request being handled), if any."""
    i = _last_human(messages)
    found = messages[i] if i >= 0 else None
    return found if isinstance(found, HumanMessage) else None


def prior_turns(messages: Sequence[BaseMessage], *, max_turns: int = MAX_TURNS) -> list[AnyMessage]:
    """Earlier requests of the thread as strictly alternating user / assistant messages."""
    end = _last_human(messages)
    turns: list[tuple[str, str]] = []
    for message in messages[: max(end, 0)]:
        if isinstance(message, HumanMessage):
            turns.append((message.text, ""))
        elif turns and _is_answer(message):
            turns[-1] = (turns[-1][0], message.text)  # the last answer of a turn is its final one
    out: list[AnyMessage] = []
    for request, answer in turns[-max_turns:] if max_turns else []:
        out.append(HumanMessage(_cut(request, MAX_TURN_CHARS)))
        out.append(AIMessage(_cut(answer, MAX_TURN_CHARS) if answer else NO_ANSWER))
    return out


def _as_text_call(message: AIMessage) -> AIMessage:
    calls = [{"name": c["name"], "arguments": c["args"]} for c in message.tool_calls]
    body = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
    prefix = f"{message.text.strip()}\n" if message.text.strip() else ""
    names = [c["name"] for c in message.tool_calls]
    return AIMessage(
        f"{prefix}```json\n{body}\n```", name=message.name, additional_kwargs={TEXT_CALLS: names}
    )


def agent_view(messages: Sequence[BaseMessage], agent: str, *, text_tools: bool = False) -> AgentView:
    """The view `agent` gets of `messages` (see the module docstring).

    With `text_tools`, tool calls and results become plain text (an assistant turn holding the call as a
    JSON block, a user turn holding the result): for servers that take no tool messages at all.
    """
    start = _last_human(messages)
    view: list[AnyMessage] = prior_turns(messages)
    request = messages[start] if start >= 0 else None
    if isinstance(request, HumanMessage):
        view.append(HumanMessage(request.content))
    mine: set[str] = set()
    others: list[tuple[str, str]] = []
    for message in messages[start + 1 :]:
        if isinstance(message, AIMessage) and message.name == agent:
            mine.update(c["id"] or "" for c in message.tool_calls)
            if message.tool_calls:
                view.append(_as_text_call(message) if text_tools else message)
            elif message.text.strip():
                view.append(message)
        elif isinstance(message, ToolMessage) and message.tool_call_id in mine:
            if text_tools:
                name = message.name or "the tool"
                result = HumanMessage(
                    f"Result of {name}:\n{message.text}", additional_kwargs={TEXT_RESULT: name}
                )
                view.append(result)
            else:
                view.append(message)
        elif _is_answer(message) and message.name not in (agent, "supervisor"):
            others.append((str(message.name or "another agent"), message.text))
    return AgentView(messages=_merge_adjacent(view), others=others)


def _plain_human(message: BaseMessage) -> bool:
    return type(message) is HumanMessage


def _plain_ai(message: BaseMessage) -> bool:
    return type(message) is AIMessage and not message.tool_calls


def _merge_adjacent(messages: list[AnyMessage]) -> list[AnyMessage]:
    """Join two plain user (or two plain assistant) messages in a row into one, as strict templates need."""
    out: list[AnyMessage] = []
    for message in messages:
        previous = out[-1] if out else None
        text = f"{previous.text}\n\n{message.text}" if previous is not None else ""
        if _plain_human(message) and previous is not None and _plain_human(previous):
            out[-1] = HumanMessage(text, additional_kwargs=_merged_marks(previous, message))
        elif _plain_ai(message) and previous is not None and _plain_ai(previous):
            out[-1] = AIMessage(text, name=message.name, additional_kwargs=_merged_marks(previous, message))
        else:
            out.append(message)
    return out


def _merged_marks(first: BaseMessage, second: BaseMessage) -> dict[str, object]:
    """The view's marks of two merged messages: results stay results only when both were, and the calls
    written as text are those of both."""
    marks: dict[str, object] = {}
    if TEXT_RESULT in first.additional_kwargs and TEXT_RESULT in second.additional_kwargs:
        marks[TEXT_RESULT] = second.additional_kwargs[TEXT_RESULT]
    calls = [*first.additional_kwargs.get(TEXT_CALLS, ()), *second.additional_kwargs.get(TEXT_CALLS, ())]
    if calls:
        marks[TEXT_CALLS] = calls
    return marks


def shape_problems(messages: Sequence[BaseMessage]) -> list[str]:
    """What a strict chat template would reject in `messages` (empty when the list is well-formed).

    The rules of llama.cpp's and vLLM's strict templates: after an optional system message the roles
    alternate between the user and the assistant (tool results count as part of the assistant's turn and
    each answers a call of the assistant message before it), and the list ends with a user or tool message.
    """
    problems: list[str] = []
    body = [m for m in messages if m.type != "system"]
    if any(m.type == "system" for m in messages[1:]):
        problems.append("a system message after the first position")
    if not body:
        return [*problems, "no user message"]
    if body[0].type != "human":
        problems.append(f"starts with a {body[0].type} message, not a user message")
    open_calls: set[str] = set()
    previous = ""
    for i, m in enumerate(body):
        if m.type == "tool":
            if not isinstance(m, ToolMessage) or m.tool_call_id not in open_calls:
                problems.append(f"message {i}: a tool result without its call")
            else:
                open_calls.discard(m.tool_call_id)
        elif m.type == previous and m.type in ("human", "ai"):
            problems.append(f"message {i}: two {m.type} messages in a row")
        if m.type == "ai":
            open_calls = {c["id"] or "" for c in getattr(m, "tool_calls", [])}
        if m.type == "human" and open_calls:
            problems.append(f"message {i}: a user message while tool calls wait for results")
        previous = m.type
    if body[-1].type == "ai" and not getattr(body[-1], "tool_calls", None):
        problems.append("ends with an assistant message (the model would continue it instead of answering)")
    return problems
