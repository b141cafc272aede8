"""`DirectAnswer`: a request that one read-only tool call has answered ends with opsgraph's rendering of it.

A small local model pays for every model call in seconds of prompt processing and generation, and the
call after a decisive result adds little: it restates an IAM decision (sometimes as its opposite), or
wanders off into a diagnosis nobody asked for until its token limit. When the agent's only successful
call for the request (after any that failed) was read-only and returned an artifact that opsgraph
presents (an IAM decision with the statements that decided it, a pod list, a diagnosis, a cost report:
`tools.present`), the agent's answer is that presentation, with no further model call. A tool's raw
output is still never the answer: the presentation is the same readable rendering every surface shows.

It stands aside (the model answers as usual) when the request asks for a change (its words name one of
the agent's changing tools, or a change verb, other than the verbs the called tool's metadata says its
result answers: `synthesize_policy` answers "write a policy that ..."), when the call failed or changed something, when an
earlier call of the request succeeded too, or when the result has no presenter. `OPSGRAPH_DIRECT_ANSWERS`
turns it on or off; by default it is on for `local:` models only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from tools.base import is_mutating
from tools.present import present

__all__ = [
    "CHANGE_WORDS",
    "LOOK_WORDS",
    "DirectAnswer",
    "asks_for_change",
    "change_words",
    "direct_answer",
]

CHANGE_WORDS = frozenset(
    "add annotate change create delete edit fix give grant install label make migrate modify remove repair restart revert roll rollback update upgrade".split()  # noqa: SIM905
)
"""Verbs that ask for a change in any domain; the agent's changing tools add the words of their names."""

LOOK_WORDS = frozenset(
    "read write get put list create delete describe upload add remove make image rollout set env".split()  # noqa: SIM905
)
"""Words that a question uses for what it asks about ("can the role delete the object?", "what image
does it run?", "is the rollout finished?"): in a question they ask for a look, not a change."""

_WORD = re.compile(r"[a-z]+")
_QUESTION = re.compile(
    r"^\W*(can|could|may|might|does|do|is|are|was|would|will|should|who|what|which|why|how)\b|\?\s*$", re.I
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if len(w) > 2}


def change_words(tools: Sequence[BaseTool]) -> frozenset[str]:
    """`CHANGE_WORDS` and the words of the agent's changing tools' names that no reading tool's name
    shares (`scale`, `drain`, `cordon`, `repaired`; not `deployment`, `resource` or `policy`)."""
    reading = set().union(*(_words(t.name.replace("_", " ")) for t in tools if not is_mutating(t)))
    changing = set().union(*(_words(t.name.replace("_", " ")) for t in tools if is_mutating(t)))
    own = {w for w in changing if not any(r[:5] == w[:5] for r in reading)}
    return frozenset(own | {_stem(w) for w in CHANGE_WORDS})


def asks_for_change(request: str, words: frozenset[str]) -> bool:
    """True when `request` uses one of the change `words` (`change_words`), leaving out the `LOOK_WORDS`
    of a question."""
    found = _words(request) & words
    if _QUESTION.search(request.strip()):
        found -= {_stem(w) for w in LOOK_WORDS}
    return bool(found)


def direct_answer(messages: Sequence[BaseMessage], agent: str, tools: Sequence[BaseTool]) -> str | None:
    """The rendering that answers the current request in `messages` for `agent`, or None (see the module
    docstring for when there is one)."""
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    if start < 0:
        return None
    later = messages[start + 1 :]
    steps = [m for m in later if isinstance(m, AIMessage) and m.name == agent]
    if not steps or len(steps[-1].tool_calls) != 1:
        return None
    call = steps[-1].tool_calls[0]
    tool = {t.name: t for t in tools}.get(call["name"])
    if tool is None or is_mutating(tool):
        return None
    results = {m.tool_call_id: m for m in later if isinstance(m, ToolMessage)}
    result = results.get(call["id"] or "")
    if result is None or result.status == "error" or not isinstance(result.artifact, dict):
        return None
    earlier = [c["id"] or "" for m in steps[:-1] for c in m.tool_calls]
    if any(c not in results or results[c].status != "error" for c in earlier):
        return None  # an earlier call succeeded too: the model weighs the results together
    # a read-only tool whose result is what some change verbs ask for ("write a policy that ..." answered by
    # synthesize_policy) names those verbs in its metadata `answers`
    answered = frozenset(_stem(w) for w in (tool.metadata or {}).get("answers", ()))
    if asks_for_change(messages[start].text, change_words(tools) - answered):
        return None
    try:
        shown = present(result.artifact)
    except Exception:  # a presenter's bug costs the shortcut, never the answer: the model answers
        return None
    return shown.strip() if shown and shown.strip() else None


class DirectAnswer(AgentMiddleware):
    """Answer with the rendering of a decisive read-only result instead of calling the model again."""

    def __init__(self, agent: str, tools: Sequence[BaseTool]) -> None:
        super().__init__()
        self.agent, self.tools = agent, list(tools)

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        answer = direct_answer(request.messages, self.agent, self.tools)
        if answer is None:
            return handler(request)
        return ModelResponse(result=[AIMessage(answer, name=self.agent)])
