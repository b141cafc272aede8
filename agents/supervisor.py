"""The supervisor graph: route a request to one or more domain agents in sequence, then answer.

Hand-written `StateGraph`; routing is `Command(goto=...)`. Each domain agent is a `create_agent` subgraph
that shares the `messages` channel, so its tool calls and answer are part of the thread's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from agents.routing import route_messages

__all__ = ["SupervisorState", "build_supervisor", "final_answers"]


class SupervisorState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    plan: list[str]
    """Agents still to run for the current request."""
    route: list[str]
    """Every agent chosen for the current request, in order."""


def final_answers(messages: list[AnyMessage]) -> list[AIMessage]:
    """The answers given since the latest user message (AI messages that call no tool)."""
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    return [
        m
        for m in messages[last_human + 1 :]
        if isinstance(m, AIMessage) and not m.tool_calls and m.text.strip()
    ]


def build_supervisor(
    model: BaseChatModel,
    agents: Mapping[str, Any],
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    *,
    router_max_tokens: int = 160,
    where: str = "",
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the supervisor over `agents` (name -> compiled agent graph)."""

    def supervisor(state: SupervisorState) -> Command[str]:
        decision = route_messages(model, state.get("messages", []), max_tokens=router_max_tokens, where=where)
        chosen = [a for a in decision.agents if a in agents]
        if not chosen:
            reply = decision.reply or "No agent can handle this request."
            return Command(
                goto=END, update={"messages": [AIMessage(reply, name="supervisor")], "plan": [], "route": []}
            )
        return Command(goto=chosen[0], update={"plan": chosen[1:], "route": chosen})

    def dispatch(state: SupervisorState) -> Command[str]:
        plan = state.get("plan", [])
        if plan:
            return Command(goto=plan[0], update={"plan": plan[1:]})
        return Command(goto="finish")

    def finish(state: SupervisorState) -> dict[str, Any]:
        route = state.get("route", [])
        answers = final_answers(state.get("messages", []))
        if len(route) < 2 or len(answers) < 2:
            return {}
        combined = "\n\n".join(
            f"[{agent}] {answer.text}" for agent, answer in zip(route, answers, strict=False)
        )
        return {"messages": [AIMessage(combined, name="supervisor")]}

    builder: StateGraph[SupervisorState, Any, SupervisorState, SupervisorState] = StateGraph(SupervisorState)
    builder.add_node("supervisor", supervisor, destinations=(*agents, END))
    for name, graph in agents.items():
        builder.add_node(name, graph)
        builder.add_edge(name, "dispatch")
    builder.add_node("dispatch", dispatch, destinations=(*agents, "finish"))
    builder.add_node("finish", finish)
    builder.add_edge(START, "supervisor")
    builder.add_edge("finish", END)
    return builder.compile(checkpointer=checkpointer, name="opsgraph")
