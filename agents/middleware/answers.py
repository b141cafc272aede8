"""`AnswerFallback`: a person always gets an answer to read, never a tool's raw output as one.

When an agent ends without an answer (small models often return nothing after a tool result, or echo a
tool call or raw JSON as their "answer"), opsgraph writes the answer itself from the tool results of the
request: each result's presentation (`tools.present`) or its text with the untrusted-data fences taken
off. An answer longer than `MAX_ANSWER_CHARS` is cut, with a note.
"""

from __future__ import annotations

import json
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.runtime import Runtime

from tools.base import unfence
from tools.present import present

__all__ = ["MAX_ANSWER_CHARS", "AnswerFallback", "is_raw_json", "summarise_results"]

MAX_ANSWER_CHARS = 12_000
_MAX_RESULT_CHARS = 3_000


def is_raw_json(text: str) -> bool:
    """True when `text` is nothing but a JSON value (perhaps in a code fence): data, not an answer."""
    stripped = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
    except json.JSONDecodeError:
        return False
    return True


def summarise_results(results: list[ToolMessage]) -> str:
    """A readable answer made of tool results (the model gave none)."""
    if not results:
        return "The model returned no answer and called no tool for this request."
    parts = []
    for message in results:
        artifact = message.artifact if isinstance(message.artifact, dict) else None
        body = present(artifact) or unfence(message.text).strip() or "(no output)"
        if len(body) > _MAX_RESULT_CHARS:
            body = body[: _MAX_RESULT_CHARS - 1] + "… (cut)"
        parts.append(f"**{message.name or 'tool'}**\n\n{body}")
    return "The model gave no answer of its own; here is what the tools returned.\n\n" + "\n\n".join(parts)


class AnswerFallback(AgentMiddleware):
    """After `agent` finishes, make sure its last message is an answer a person can read."""

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent

    def after_agent(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        messages = state["messages"]
        start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        own_calls: set[str] = set()
        results: list[ToolMessage] = []
        last: AIMessage | None = None
        for message in messages[start + 1 :]:
            if isinstance(message, AIMessage) and message.name == self.agent:
                own_calls.update(c["id"] or "" for c in message.tool_calls)
                last = message
            elif isinstance(message, ToolMessage) and message.tool_call_id in own_calls:
                results.append(message)
        if last is None or last.tool_calls:
            return None
        text = last.text.strip()
        if not text or is_raw_json(text):
            return {"messages": [AIMessage(summarise_results(results), name=self.agent, id=last.id)]}
        if (last.response_metadata or {}).get("finish_reason") == "length" and "(cut at" not in text:
            note = " … (the model's answer was cut at its token limit, OPSGRAPH_MAX_TOKENS)"
            return {"messages": [AIMessage(unfence(text) + note, name=self.agent, id=last.id)]}
        if len(text) > MAX_ANSWER_CHARS or "<<untrusted data from" in text:
            shown = unfence(text)
            if len(shown) > MAX_ANSWER_CHARS:
                shown = shown[: MAX_ANSWER_CHARS - 1] + f"… (answer cut at {MAX_ANSWER_CHARS:,} characters)"
            return {"messages": [AIMessage(shown, name=self.agent, id=last.id)]}
        return None
