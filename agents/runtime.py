"""`Runtime`: the supervisor graph wired to a model, tools, the approval gate and a store.

Every interface (CLI, SDK, HTTP, Slack) drives runs through this class: start a run, stream its events,
answer an approval, list and replay threads.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, cast

import openai
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel

from agents.domains import DOMAINS
from agents.events import (
    Event,
    FinalEvent,
    InterruptEvent,
    RouteEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from agents.gate import ApprovalDecision, ApprovalPredicate, ApprovalRequest, gate_tools, requires_approval
from agents.models.factory import make_chat_model
from agents.models.vocabulary import AgentName
from agents.store import AuditEntry, Store, open_store
from agents.supervisor import build_supervisor, final_answers
from opsgraph.settings import Settings
from tools.base import ToolContext

__all__ = [
    "Checkpoint",
    "ModelError",
    "ModelUnavailableError",
    "PendingApprovalError",
    "RunResult",
    "Runtime",
    "ThreadNotFoundError",
]


class ThreadNotFoundError(LookupError):
    """No such thread, or it belongs to someone else (the two are indistinguishable on purpose)."""


class ModelError(RuntimeError):
    """A model call failed in a way the run cannot recover from (HTTP status, length, invalid output, step
    or time limit). The message is one line naming the endpoint and the agent; the thread stays resumable,
    so an interface reports it and carries on (`opsgraph chat` keeps the session)."""


class ModelUnavailableError(ModelError):
    """The configured model endpoint cannot be reached or refuses the request."""


class PendingApprovalError(RuntimeError):
    """The thread waits for an approval decision before it can take a new message."""


class RunResult(BaseModel):
    thread_id: str
    status: Literal["done", "interrupted"]
    answer: str | None = None
    approval: ApprovalRequest | None = None
    route: list[str] = []


class Checkpoint(BaseModel):
    checkpoint_id: str
    step: int
    next: list[str]
    messages: int
    created_at: str | None


class Runtime:
    """The assistant: one compiled supervisor graph over one store."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        model: BaseChatModel | None = None,
        tools: Mapping[AgentName, Sequence[BaseTool]] | None = None,
        store: Store | None = None,
        tool_context: ToolContext | None = None,
        predicate: ApprovalPredicate = requires_approval,
    ) -> None:
        self.settings = settings or Settings()
        self.model = model or make_chat_model(self.settings)
        self.store = store or open_store(self.settings.resolved_checkpoint_url())
        self._owns_store = store is None
        ctx = tool_context or ToolContext(
            kubeconfig=self.settings.resolved_kubeconfig(),
            kube_context=self.settings.kube_context,
            read_only=self.settings.read_only,
        )
        self.tool_context = ctx
        """The cluster and files the built-in tools work with."""
        agents: dict[str, Any] = {}
        for name, domain in DOMAINS.items():
            raw = list(tools[name]) if tools is not None and name in tools else domain.tools(ctx)
            gated = gate_tools(
                raw, agent=name, store=self.store, read_only=self.settings.read_only, predicate=predicate
            )
            agents[name] = create_agent(self.model, gated, system_prompt=domain.prompt, name=name)
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_supervisor(
            self.model, agents, self.store.checkpointer
        )

    # runs
    def run(self, text: str, *, thread_id: str | None = None, user: str | None = None) -> RunResult:
        """Send a message and run until an answer or an approval request."""
        thread_id = thread_id or uuid.uuid4().hex
        for _ in self.stream(text, thread_id=thread_id, user=user):
            pass
        return self.result(thread_id)

    def resume(self, thread_id: str, decision: ApprovalDecision, *, user: str | None = None) -> RunResult:
        """Answer the pending approval on `thread_id` and run on."""
        for _ in self.stream_resume(thread_id, decision, user=user):
            pass
        return self.result(thread_id)

    def stream(
        self, text: str, *, thread_id: str | None = None, user: str | None = None, read_only: bool = False
    ) -> Iterator[Event]:
        user = user or self.settings.user
        thread_id = thread_id or uuid.uuid4().hex
        self._claim(thread_id, user, title=text)
        if self.pending(thread_id, user=user) is not None:
            raise PendingApprovalError(
                f"thread {thread_id} is waiting for an approval: approve or reject it first"
            )
        yield from self._drive({"messages": [HumanMessage(text)]}, thread_id, user, read_only=read_only)

    def stream_resume(
        self, thread_id: str, decision: ApprovalDecision, *, user: str | None = None
    ) -> Iterator[Event]:
        user = user or self.settings.user
        self._check_owner(thread_id, user)
        if self.pending(thread_id, user=user) is None:
            raise PendingApprovalError(f"thread {thread_id} has no pending approval")
        decision = decision.model_copy(update={"user": decision.user or user})
        yield from self._drive(Command(resume=decision.model_dump()), thread_id, user)

    def _drive(self, payload: Any, thread_id: str, user: str, *, read_only: bool = False) -> Iterator[Event]:
        config = self._config(thread_id, user)
        config["configurable"]["read_only"] = read_only  # the gate refuses mutating calls for this run
        self.store.touch_thread(thread_id, user, "", "running")
        status = "error"
        try:
            try:
                yield from self._events(payload, config, thread_id)
            except (openai.APIConnectionError, openai.AuthenticationError, openai.NotFoundError) as exc:
                where = self.settings.base_url or "the OpenAI API"
                raise ModelUnavailableError(f"cannot use the model at {where}: {exc}") from exc
            result = self.result(thread_id)
            status = "interrupted" if result.status == "interrupted" else "idle"
        finally:
            self.store.touch_thread(thread_id, user, "", status)
        if result.status == "done":
            yield FinalEvent(thread_id=thread_id, answer=result.answer or "")

    def _events(self, payload: Any, config: RunnableConfig, thread_id: str) -> Iterator[Event]:
        calls: dict[str, str] = {}
        seen_interrupts: set[str] = set()
        stream = self.graph.stream(payload, config, stream_mode=["messages", "updates"], subgraphs=True)
        for item in stream:
            namespace, mode, data = cast("tuple[tuple[str, ...], str, Any]", item)
            agent = namespace[0].split(":")[0] if namespace else "supervisor"
            if mode == "messages":
                chunk, _meta = data
                if (
                    isinstance(chunk, AIMessageChunk)
                    and chunk.text
                    and agent != "supervisor"
                    and not chunk.tool_call_chunks
                ):
                    yield TokenEvent(agent=agent, text=chunk.text)
                continue
            for node, update in data.items():
                if node == "__interrupt__":
                    for pause in update:
                        # an interrupt surfaces twice: from the agent subgraph and from the parent graph
                        if pause.id in seen_interrupts:
                            continue
                        seen_interrupts.add(pause.id)
                        yield InterruptEvent(
                            thread_id=thread_id, approval=ApprovalRequest.model_validate(pause.value)
                        )
                elif (
                    node == "supervisor"
                    and not namespace
                    and isinstance(update, dict)
                    and update.get("route")
                ):
                    yield RouteEvent(agents=list(update["route"]))
                elif namespace and isinstance(update, dict):
                    for message in update.get("messages", []):
                        yield from self._message_events(agent, message, calls)

    @staticmethod
    def _message_events(agent: str, message: AnyMessage, calls: dict[str, str]) -> Iterator[Event]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[call["id"] or ""] = call["name"]
                yield ToolCallEvent(agent=agent, id=call["id"] or "", tool=call["name"], args=call["args"])
        elif isinstance(message, ToolMessage):
            name = message.name or calls.get(message.tool_call_id, "")
            artifact = message.artifact if isinstance(message.artifact, dict) else None
            yield ToolResultEvent(
                agent=agent, id=message.tool_call_id, tool=name, content=message.text, artifact=artifact
            )

    # threads
    def pending(self, thread_id: str, *, user: str | None = None) -> ApprovalRequest | None:
        state = self.graph.get_state(self._config(thread_id, user or self.settings.user))
        for item in state.interrupts:
            return ApprovalRequest.model_validate(item.value)
        return None

    def messages(self, thread_id: str, *, user: str | None = None) -> list[AnyMessage]:
        self._check_owner(thread_id, user or self.settings.user)
        state = self.graph.get_state(self._config(thread_id, user or self.settings.user))
        return list(state.values.get("messages", []))

    def audit(self, thread_id: str, *, user: str | None = None) -> list[AuditEntry]:
        """The thread's tool calls with their approval decisions, oldest first."""
        self._check_owner(thread_id, user or self.settings.user)
        return self.store.audit(thread_id)

    def history(self, thread_id: str, *, user: str | None = None) -> list[Checkpoint]:
        """The thread's checkpoints, newest first (for time travel)."""
        user = user or self.settings.user
        self._check_owner(thread_id, user)
        return [
            Checkpoint(
                checkpoint_id=str(s.config["configurable"]["checkpoint_id"]),
                step=int((s.metadata or {}).get("step", -1)),
                next=list(s.next),
                messages=len(s.values.get("messages", [])),
                created_at=s.created_at,
            )
            for s in self.graph.get_state_history(self._config(thread_id, user))
        ]

    def replay(self, thread_id: str, checkpoint_id: str, *, user: str | None = None) -> RunResult:
        """Run again from an earlier checkpoint; the new steps fork the thread's history from there."""
        user = user or self.settings.user
        if checkpoint_id not in {c.checkpoint_id for c in self.history(thread_id, user=user)}:  # checks owner
            raise ThreadNotFoundError(f"thread {thread_id} has no checkpoint {checkpoint_id}")
        config = self._config(thread_id, user)
        config["configurable"]["checkpoint_id"] = checkpoint_id
        for _ in self._events(None, config, thread_id):
            pass
        return self.result(thread_id)

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # helpers
    def _config(self, thread_id: str, user: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id, "user": user}, "recursion_limit": 50}

    def _claim(self, thread_id: str, user: str, title: str) -> None:
        info = self.store.thread(thread_id)
        if info is not None and info.owner != user:
            raise ThreadNotFoundError(f"no thread {thread_id}")
        if info is None:
            self.store.touch_thread(thread_id, user, title, "idle")

    def _check_owner(self, thread_id: str, user: str) -> None:
        info = self.store.thread(thread_id)
        if info is None or info.owner != user:
            raise ThreadNotFoundError(f"no thread {thread_id}")

    def result(self, thread_id: str) -> RunResult:
        """Where the thread stands: its answer, or the approval it waits on."""
        state = self.graph.get_state(self._config(thread_id, self.settings.user))
        route = list(state.values.get("route", []))
        if state.interrupts:
            approval = ApprovalRequest.model_validate(state.interrupts[0].value)
            return RunResult(thread_id=thread_id, status="interrupted", approval=approval, route=route)
        answers = final_answers(state.values.get("messages", []))
        answer = answers[-1].text if answers else None
        return RunResult(thread_id=thread_id, status="done", answer=answer, route=route)
