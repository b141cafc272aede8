"""The middleware every agent's model calls go through, in order, built from the model policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware
from langchain_core.tools import BaseTool

from agents.middleware.answers import AnswerFallback
from agents.middleware.arguments import CorrectRejected, StrictArguments
from agents.middleware.direct import DirectAnswer
from agents.middleware.limits import StepLimit
from agents.middleware.request import AgainstRequest
from agents.middleware.shim import TextToolCalls
from agents.middleware.subset import ToolSubset
from agents.middleware.view import ConversationView

__all__ = ["ModelPolicy", "agent_middleware"]

ToolCallMode = Literal["auto", "native", "text", "json"]


@dataclass(frozen=True)
class ModelPolicy:
    """How far opsgraph trusts the model: how it offers tools, how many, and how many tries it allows."""

    where: str = "offline"
    """The model and its endpoint, as error messages name them."""
    tool_calls: ToolCallMode = "auto"
    max_tools: int | None = None
    """Tools bound per model call (None: all of the agent's)."""
    max_steps: int = 8
    tool_retries: int = 2
    direct_answers: bool = False
    """End an agent with the rendering of a decisive read-only result (`agents.middleware.direct`)."""


def agent_middleware(
    agent: str, tools: Sequence[BaseTool], policy: ModelPolicy
) -> list[AgentMiddleware[Any]]:
    """The middleware of `agent`, outermost first: direct answer, limit, view, subset, rejected-argument
    retry, argument check, shim, fallback; around each tool call, the check against the request."""
    stack: list[AgentMiddleware[Any]] = [DirectAnswer(agent, tools)] if policy.direct_answers else []
    stack += [
        StepLimit(agent, policy.max_steps, policy.where),
        ConversationView(agent, text_tools=policy.tool_calls in ("text", "json")),
    ]
    if policy.max_tools is not None:
        stack.append(ToolSubset(policy.max_tools))
    if policy.tool_retries:
        stack.append(CorrectRejected(agent, tools))
    stack.append(StrictArguments(agent, tools, policy.tool_retries, policy.where))
    if policy.tool_calls != "native":
        stack.append(TextToolCalls(agent, policy.tool_calls, tools))
    stack += [AnswerFallback(agent), AgainstRequest()]
    return stack
