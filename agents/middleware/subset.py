"""`ToolSubset`: each model call binds only the tools the request is about.

The Kubernetes agent has about 30 tools; their schemas are some 4,000 prompt tokens on every call, which a
small local model on a CPU pays for in seconds and in attention. The subset is chosen without a model call,
from the request's words (see `select_tools`); tools the agent already called for this request stay, and
ties keep the agent's own order (its most general tools first).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import BaseTool

from agents.conversation import request_index, tools_called

__all__ = ["ToolSubset", "offered", "select_tools", "tool_scores"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an the is are was be to of in on for and or with my me i it its this that what why how do does can "
        "could please show tell get all any by from as at into your you we our which",
    )
)


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def _fields(tool: BaseTool) -> dict[str, float]:
    """The tool's words, each with the weight of the most telling field it appears in."""
    meta = tool.metadata or {}
    schema = tool.args_schema
    params = getattr(schema, "model_fields", None) or {}
    weighted: dict[str, float] = {}
    for text, weight in (
        (" ".join(params) if isinstance(params, dict) else "", 0.5),
        (tool.description or "", 1.0),
        (" ".join(meta.get("keywords", ())), 2.0),
        (tool.name.replace("_", " "), 3.0),
    ):
        for word in _words(text):
            weighted[word] = max(weighted.get(word, 0.0), weight)
    return weighted


def _match(query: str, word: str) -> bool:
    """Equal, or one a prefix of the other when both are telling (deploy/deployment, log/logs)."""
    if query == word:
        return True
    return min(len(query), len(word)) >= 4 and (query.startswith(word) or word.startswith(query))


def tool_scores(tools: Sequence[BaseTool], request: str) -> list[float]:
    """How relevant each of `tools` is to `request`, in the tools' order.

    A request word counts by the weight of the field it matches in a tool (name, keywords, description,
    parameters) times how rare it is among the agent's tools, so "pod" or "namespace", which every
    Kubernetes tool mentions, decide little and "logs" or "scale" decide much.
    """
    fields = [_fields(t) for t in tools]
    words = _words(request)
    rarity = {
        q: math.log((len(tools) + 1) / (1 + sum(any(_match(q, w) for w in f) for f in fields))) for q in words
    }
    return [
        sum(rarity[q] * max((weight for w, weight in f.items() if _match(q, w)), default=0.0) for q in words)
        for f in fields
    ]


def offered(tool: BaseTool, context: str) -> bool:
    """Whether `tool` may be bound for a conversation whose text is `context`: a tool whose metadata has
    `offered_if` (a regular expression) needs it to match, e.g. a repair tool needs a policy to repair,
    named in the conversation (a 1.5B model otherwise calls `write_repaired_policy` for "write a policy
    that ..." on a policy ARN it made up)."""
    pattern = (tool.metadata or {}).get("offered_if")
    return not pattern or re.search(pattern, context, re.IGNORECASE) is not None


def select_tools(
    tools: Sequence[BaseTool], request: str, limit: int, keep: set[str], context: str | None = None
) -> list[BaseTool]:
    """The `limit` tools most relevant to `request` (`tool_scores`) among those `offered` in `context`
    (default: the request), plus those named in `keep`, in the agent's order."""
    tools = [t for t in tools if t.name in keep or offered(t, request if context is None else context)]
    if len(tools) <= limit:
        return list(tools)
    scores = tool_scores(tools, request)
    ranked = sorted(range(len(tools)), key=lambda i: (-scores[i], i))
    chosen = set(ranked[:limit]) | {i for i, t in enumerate(tools) if t.name in keep}
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
        if len(tools) != len(request.tools):
            return handler(request)
        start = request_index(request.messages)  # not a tool result sent as a user turn
        text = request.messages[start].text if start >= 0 else ""
        context = " ".join(
            m.text for m in request.messages[: start + 1] if isinstance(m, HumanMessage | AIMessage)
        )
        called = set(tools_called(request.messages[start + 1 :]))
        chosen = select_tools(tools, text, self.limit, called, context)
        if len(chosen) == len(tools):
            return handler(request)
        return handler(request.override(tools=list[BaseTool | dict[str, Any]](chosen)))
