"""`ToolSubset`: each model call binds only the tools the request is about.

The Kubernetes agent has some 25 tools; their schemas are thousands of prompt tokens on every call, which
a small local model on a CPU pays for in seconds and in attention. The subset is chosen without a model
call: the request's words are matched against each tool's name, description, argument names and declared
`keywords` (tool metadata), names counting most; tools the agent already called for this request stay,
and ties keep the agent's own order (its most general tools first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import BaseTool

__all__ = ["ToolSubset", "select_tools"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "be",
        "to",
        "of",
        "in",
        "on",
        "for",
        "and",
        "or",
        "with",
        "my",
        "me",
        "i",
        "it",
        "its",
        "this",
        "that",
        "what",
        "why",
        "how",
        "do",
        "does",
        "can",
        "could",
        "please",
        "show",
        "tell",
        "get",
        "all",
        "any",
        "by",
        "from",
        "as",
        "at",
        "into",
        "your",
        "you",
        "we",
        "our",
        "which",
    ]
)


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def _score(tool: BaseTool, words: set[str]) -> float:
    meta = tool.metadata or {}
    name = _words(tool.name.replace("_", " "))
    keywords = _words(" ".join(meta.get("keywords", ())))
    schema = tool.args_schema
    fields = getattr(schema, "model_fields", None) or {}
    args = _words(" ".join(fields)) if isinstance(fields, dict) else set()
    description = _words(tool.description or "")
    return (
        3.0 * len(words & name)
        + 2.0 * len(words & keywords)
        + 1.0 * len(words & description)
        + 0.5 * len(words & args)
    )


def select_tools(tools: Sequence[BaseTool], request: str, limit: int, keep: set[str]) -> list[BaseTool]:
    """The `limit` tools most relevant to `request` (plus those named in `keep`), in the agent's order."""
    if len(tools) <= limit:
        return list(tools)
    words = _words(request)
    ranked = sorted(range(len(tools)), key=lambda i: (-_score(tools[i], words), i))
    chosen = {i for i in ranked[:limit]} | {i for i, t in enumerate(tools) if t.name in keep}
    return [t for i, t in enumerate(tools) if i in chosen]


class ToolSubset(AgentMiddleware):
    """Bind at most `limit` of the agent's tools per model call (see the module docstring)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        tools = [t for t in request.tools if isinstance(t, BaseTool)]
        if len(tools) <= self.limit or len(tools) != len(request.tools):
            return handler(request)
        start = max((i for i, m in enumerate(request.messages) if isinstance(m, HumanMessage)), default=-1)
        text = request.messages[start].text if start >= 0 else ""
        called = {
            c["name"] for m in request.messages[start + 1 :] if isinstance(m, AIMessage) for c in m.tool_calls
        }
        return handler(request.override(tools=list(select_tools(tools, text, self.limit, called))))
