"""The supervisor's routing decision: which domain agents handle a request, in which order."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agents.models.offline import ROUTE_TOOL_NAME
from agents.models.vocabulary import AgentName

__all__ = ["ROUTER_PROMPT", "RouteDecision", "route_messages", "route_request"]

ROUTER_PROMPT = """You are the supervisor of an infrastructure assistant. Choose which domain agents must act \
on the user's latest request, in the order they should act:
- kubernetes: anything about a Kubernetes cluster: pods, deployments, services, logs, events, scaling, RBAC.
- iam: AWS IAM policies: compare, explain, validate, repair or write a policy, check whether a request is allowed.
- cost: cloud or cluster cost: right-sizing, node plans, spot instances, savings.
List several agents only when the request needs several domains. If no agent fits (a greeting, a question \
about you), give an empty list and put a short direct answer in `reply`."""


class RouteDecision(BaseModel):
    """Which domain agents act on the request, in order; `reply` answers directly when none does."""

    agents: list[AgentName] = Field(default_factory=list, description="Agents to run, in order.")
    reply: str | None = Field(default=None, description="Direct answer when no agent fits.")


assert RouteDecision.__name__ == ROUTE_TOOL_NAME  # the offline model recognises the schema by this name


def route_messages(model: BaseChatModel, messages: Sequence[BaseMessage]) -> RouteDecision:
    """Ask `model` to route the conversation's latest request."""
    structured = model.with_structured_output(RouteDecision)
    decision = structured.invoke([SystemMessage(ROUTER_PROMPT), *messages])
    if not isinstance(decision, RouteDecision):  # pragma: no cover - guarded by with_structured_output
        raise TypeError(f"router returned {type(decision).__name__}, expected RouteDecision")
    unique: list[AgentName] = list(dict.fromkeys(decision.agents))
    return RouteDecision(agents=unique, reply=decision.reply)


def route_request(model: BaseChatModel, text: str) -> RouteDecision:
    """Route a single request text (the eval suite's entry point)."""
    return route_messages(model, [HumanMessage(text)])
