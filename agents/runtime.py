"""`Runtime`: the supervisor graph wired to a model, tools, the approval gate and a store.

Every interface (CLI, SDK, HTTP, Slack) drives runs through this class: start a run, stream its events,
answer an approval, list and replay threads.

A run holds its thread under a run token with a lease (`agents.leases`): a second run on the thread, from
any process, is refused while the first is alive, and a thread whose run died is taken over by the next.
Answering an approval claims it first (`claim_approval`, one transaction): of any number of callers, in
any processes, exactly one carries the decision out; the others get `ApprovalClaimedError`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, cast

import openai
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.errors import GraphRecursionError
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel, ValidationError

from agents.domains import DOMAINS
from agents.errors import ModelError, ModelUnavailableError, model_error
from agents.events import (
    CancelledEvent,
    Event,
    FinalEvent,
    InterruptEvent,
    RouteEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from agents.gate import ApprovalDecision, ApprovalPredicate, ApprovalRequest, gate_tools, requires_approval
from agents.leases import Heartbeat, new_token
from agents.middleware import ModelPolicy, agent_middleware
from agents.models.factory import make_chat_model
from agents.models.offline import OfflineChatModel
from agents.models.vocabulary import AgentName
from agents.settings import Settings
from agents.stop import STOP_KEY, RunStoppedError, StopSignal
from agents.store import AuditEntry, Store, open_store
from agents.streaming import AnswerStream
from agents.supervisor import build_supervisor, final_answers
from agents.tool_context import tool_context_for
from tools.base import ToolContext, unfence
from tools.markdown import readable_text, without_repeats
from tools.present import readable

__all__ = [
    "ApprovalClaimedError",
    "Checkpoint",
    "ModelError",
    "ModelUnavailableError",
    "PendingApprovalError",
    "RunConflictError",
    "RunResult",
    "Runtime",
    "ThreadBusyError",
    "ThreadNotFoundError",
    "failed_calls",
    "model_error",
    "model_policy",
]


class ThreadNotFoundError(LookupError):
    """No such thread, or it belongs to someone else (the two are indistinguishable on purpose)."""


class RunConflictError(RuntimeError):
    """The thread is not in a state to take this request now (HTTP 409)."""


class PendingApprovalError(RunConflictError):
    """The thread waits for an approval decision before it can take a new message (or has none to answer)."""


class ApprovalClaimedError(RunConflictError):
    """Someone else decided this approval first (another terminal, server, Slack click): nothing was run."""


class ThreadBusyError(RunConflictError):
    """Another run, alive in this or another process, holds the thread."""


class RunResult(BaseModel):
    thread_id: str
    status: Literal["done", "interrupted", "error"]
    """done; interrupted (waiting for `approval`, or stopped unfinished: see `reason`); error (a tool
    call failed: `error` says which and why)."""
    answer: str | None = None
    approval: ApprovalRequest | None = None
    route: list[str] = []
    error: str | None = None
    """The failed tool calls of the run, one per line (`tool: message`)."""
    reason: str | None = None
    """Why the run is interrupted with no approval to answer (its process stopped mid-run)."""


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
        ctx = tool_context or tool_context_for(self.settings)
        self.tool_context = ctx
        """The cluster and files the built-in tools work with."""
        self.policy = model_policy(self.settings, self.model)
        """How the agents treat this model (tool calls, tool subsets, limits); see `agents.middleware`."""
        agents: dict[str, Any] = {}
        for name, domain in DOMAINS.items():
            raw = list(tools[name]) if tools is not None and name in tools else domain.tools(ctx)
            gated = gate_tools(
                raw, agent=name, store=self.store, read_only=self.settings.read_only, predicate=predicate
            )
            agents[name] = create_agent(
                self.model,
                gated,
                system_prompt=domain.prompt,
                name=name,
                middleware=agent_middleware(name, gated, self.policy),
            )
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_supervisor(
            self.model,
            agents,
            self.store.checkpointer,
            router_max_tokens=self.settings.router_max_tokens,
            where=self.policy.where,
        )
        self._heartbeat = Heartbeat(self.store.renew_runs)
        self._stops: dict[str, StopSignal] = {}  # the runs in progress in this process, by thread

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

    def claim_approval(self, thread_id: str, decision: ApprovalDecision, *, user: str | None = None) -> str:
        """Decide the thread's pending approval, atomically, before anything runs: returns the claim (the
        token of the run that will carry the decision out; pass it to `stream_resume`). Of any number of
        callers at once, in any processes, one gets it; the others get `ApprovalClaimedError`."""
        user = user or self.settings.user
        self._check_owner(thread_id, user)
        interrupts = self.graph.get_state(self._config(thread_id, user)).interrupts
        if not interrupts:
            raise PendingApprovalError(f"thread {thread_id} has no pending approval")
        request = ApprovalRequest.model_validate(interrupts[0].value)
        if not request.id or self.store.approval(request.id) is None:
            return ""  # asked by an older version: the gate's execution claim still runs it once
        token = new_token()
        decided = decision.model_copy(update={"user": decision.user or user}).model_dump()
        outcome = self.store.claim_approval(request.id, thread_id, decided, decided["user"], token)
        if outcome == "busy":
            raise ThreadBusyError(f"thread {thread_id} is busy with another run; retry when it has finished")
        if outcome == "decided":
            raise ApprovalClaimedError(self._decided(thread_id, request))
        return token

    def _decided(self, thread_id: str, request: ApprovalRequest) -> str:
        record = self.store.approval(request.id)
        how = str((record.decision or {}).get("decision", "decided")) if record else "decided"
        who = f" by {record.decided_by} at {record.decided_at}" if record and record.decided_by else ""
        return (
            f"the approval of {request.tool} on thread {thread_id} was already answered ({how}{who}); "
            "nothing was run for this request"
        )

    def release_claim(self, thread_id: str, claim: str) -> None:
        """Give back a claim whose run will not start (the request that made it went away)."""
        if claim:
            self.store.release_claim(thread_id, claim)

    def stream_resume(
        self,
        thread_id: str,
        decision: ApprovalDecision,
        *,
        user: str | None = None,
        claim: str | None = None,
    ) -> Iterator[Event]:
        """Answer the pending approval and stream the run on; `claim` is one `claim_approval` made (in this
        or another process), else the approval is claimed here."""
        user = user or self.settings.user
        self._check_owner(thread_id, user)
        decision = decision.model_copy(update={"user": decision.user or user})
        if claim is None:
            claim = self.claim_approval(thread_id, decision, user=user)
        yield from self._drive(Command(resume=decision.model_dump()), thread_id, user, handover=claim or None)

    def stream_continue(self, thread_id: str, *, user: str | None = None) -> Iterator[Event]:
        """Run on from the last checkpoint a thread whose run stopped unfinished (its process died):
        the step that was lost runs again; an approved change that may have been made is previewed and
        asked for again, never repeated blindly."""
        user = user or self.settings.user
        self._check_owner(thread_id, user)
        yield from self._drive(None, thread_id, user)

    def _drive(
        self,
        payload: Any,
        thread_id: str,
        user: str,
        *,
        read_only: bool = False,
        handover: str | None = None,
    ) -> Iterator[Event]:
        config = self._config(thread_id, user)
        config["configurable"]["read_only"] = read_only  # the gate refuses mutating calls for this run
        stop = config["configurable"][STOP_KEY] = StopSignal()
        token = new_token()
        start = self.store.begin_run(thread_id, token, handover=handover)
        if not start.started:
            raise ThreadBusyError(
                f"thread {thread_id} is busy with another run; retry when it has finished"
                if handover is None
                else f"the claim on thread {thread_id}'s approval ran out before its run started; answer again"
            )
        self._heartbeat.hold(token)
        self._stops[thread_id] = stop
        status = "error"
        where = _Where()
        stopped: CancelledEvent | None = None
        reason: str | None = None
        shown: list[tuple[str, str]] = []  # results people saw rendered: the answer need not repeat them
        try:
            if start.recovered is not None and payload is not None and not isinstance(payload, Command):
                self._abandon(thread_id, start.recovered)  # a new message moves on from the lost run
            try:
                for event in self._events(payload, config, thread_id, where, stop):
                    if isinstance(event, ToolResultEvent) and event.artifact is not None:
                        shown.append((event.tool, event.content))
                        shown.append((event.tool, event.markdown))  # a direct answer is this rendering
                    yield event
            except RunStoppedError as exc:  # cancel(): between two events, or at the gate of a tool call
                stopped = CancelledEvent(thread_id=thread_id, by=exc.by)
            except ModelError:
                raise
            except (
                openai.OpenAIError,
                GraphRecursionError,
                ValidationError,
            ) as exc:
                raise model_error(exc, self.policy.where, _failed_agent(exc, where.agent)) from exc
            result = self.result(thread_id)
            status = {"interrupted": "interrupted", "error": "error"}.get(result.status, "idle")
            if stopped is not None:  # it rests: the next message starts a new run
                status = "interrupted" if result.approval is not None else "idle"
                reason = str(RunStoppedError(stopped.by))
        except GeneratorExit:
            # the caller stopped reading (Ctrl-C in the CLI): an agent step may still be under way in the
            # graph's worker thread; it makes no further tool call, and every checkpoint stays whole (an
            # agent's messages join the thread when the agent finishes), so the thread rests, not fails
            stop.set()
            status = "interrupted" if self.pending(thread_id, user=user) is not None else "idle"
            reason = "stopped"
            raise
        finally:
            if self._stops.get(thread_id) is stop:
                del self._stops[thread_id]
            self._heartbeat.drop(token)
            self.store.end_run(thread_id, token, status, reason)
        if stopped is not None:
            yield stopped
            return
        if result.status != "interrupted":
            answer = result.answer or ""
            yield FinalEvent(
                thread_id=thread_id,
                answer=answer,
                status=result.status,
                error=result.error,
                markdown=readable_text(without_repeats(answer, shown)),
            )

    def _abandon(self, thread_id: str, reason: str) -> None:
        """The thread's dead run will not be continued: an approved call it was carrying out gets the
        outcome `unknown` (whether the change was made, nobody knows), in the approvals and the audit."""
        info = self.store.thread(thread_id)
        for record in self.store.approvals(thread_id):
            if record.status != "executing":
                continue
            request = ApprovalRequest.model_validate(record.request)
            why = f"{reason}; whether {request.tool} was carried out is unknown (a new message moved on)"
            self.store.finish_approval(record.id, "unknown", why)
            decided = record.decision or {}
            self.store.record(
                AuditEntry(
                    thread_id=thread_id, agent=request.agent, tool=request.tool, args=request.args,
                    result=why, status="unknown", decision="approved", actor=info.owner if info else "",
                    approver=record.decided_by or decided.get("user"), approval_id=record.id,
                    precondition=request.preview.get("precondition"),
                )
            )  # fmt: skip

    def _events(
        self, payload: Any, config: RunnableConfig, thread_id: str, where: _Where, stop: StopSignal
    ) -> Iterator[Event]:
        calls: dict[str, str] = {}
        seen_interrupts: set[str] = set()
        answers = AnswerStream(hold_calls=self.policy.tool_calls != "native")
        stream = self.graph.stream(payload, config, stream_mode=["messages", "updates"], subgraphs=True)
        for item in stream:
            if stop.is_set():
                raise RunStoppedError(stop.by)
            namespace, mode, data = cast("tuple[tuple[str, ...], str, Any]", item)
            agent = namespace[0].split(":")[0] if namespace else "supervisor"
            where.agent = agent if namespace else where.agent
            if mode == "messages":
                chunk, _meta = data
                if (
                    isinstance(chunk, AIMessageChunk)
                    and chunk.text
                    and agent != "supervisor"
                    and not chunk.tool_call_chunks
                ):
                    for text in answers.chunk(chunk):
                        yield TokenEvent(agent=agent, text=text)
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
                        for text in answers.complete(message):
                            yield TokenEvent(agent=agent, text=text)
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
                agent=agent,
                id=message.tool_call_id,
                tool=name,
                content=message.text,
                artifact=artifact,
                markdown=readable(message.text, artifact),
            )

    def cancel(self, thread_id: str, *, by: str | None = None) -> bool:
        """Stop the thread's run in this process: it makes no further tool call, and its stream ends with
        a `CancelledEvent` (a model call under way finishes first). False when no run of the thread is in
        progress here."""
        stop = self._stops.get(thread_id)
        if stop is None:
            return False
        stop.set(by)
        return True

    # threads
    def pending(self, thread_id: str, *, user: str | None = None) -> ApprovalRequest | None:
        """The approval the thread waits for, if it can be answered (one that a run that died was carrying
        out is not: continuing the thread previews it again)."""
        state = self.graph.get_state(self._config(thread_id, user or self.settings.user))
        return self._answerable(state.interrupts)

    def _answerable(self, interrupts: Sequence[Any]) -> ApprovalRequest | None:
        for item in interrupts:
            request = ApprovalRequest.model_validate(item.value)
            record = self.store.approval(request.id) if request.id else None
            if record is None or record.status in ("pending", "claimed"):
                return request
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
        for _ in self._events(None, config, thread_id, _Where(), StopSignal()):
            pass
        return self.result(thread_id)

    def close(self) -> None:
        self._heartbeat.close()
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
        """Where the thread stands: its answer (and the tool calls that failed), the approval it waits
        on, or why its last run stopped unfinished."""
        state = self.graph.get_state(self._config(thread_id, self.settings.user))
        route = list(state.values.get("route", []))
        approval = self._answerable(state.interrupts)
        if approval is not None:
            return RunResult(thread_id=thread_id, status="interrupted", approval=approval, route=route)
        if state.next:  # steps left to run and nothing to answer: the run's process stopped mid-run
            info = self.store.thread(thread_id)
            reason = (info.reason if info else None) or "its last run stopped before it finished"
            return RunResult(thread_id=thread_id, status="interrupted", route=route, reason=reason)
        messages = state.values.get("messages", [])
        answers = final_answers(messages)
        answer = answers[-1].text if answers else None
        failed = failed_calls(messages)
        return RunResult(
            thread_id=thread_id,
            status="error" if failed else "done",
            answer=answer,
            route=route,
            error="\n".join(failed) or None,
        )


def failed_calls(messages: Sequence[AnyMessage]) -> list[str]:
    """The tool calls of the latest request that failed (`tool: message`), leaving out a call the model
    made again with success later in the same request."""
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    last: dict[str, ToolMessage] = {}
    for message in messages[last_human + 1 :]:
        if isinstance(message, ToolMessage):
            last[message.name or message.tool_call_id] = message
    return [f"{name}: {_error_text(m.text)}" for name, m in last.items() if m.status == "error"]


def _error_text(text: str) -> str:
    """A failed call's message: a tool's `{"error": ...}` answer read out of its JSON."""
    body = unfence(text).removeprefix("error:").strip()
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    return doc["error"] if isinstance(doc, dict) and isinstance(doc.get("error"), str) else body


def _failed_agent(exc: BaseException, default: str) -> str:
    """The agent whose task raised `exc` (LangGraph notes each task an error passed through)."""
    for note in reversed(getattr(exc, "__notes__", [])):
        m = re.search(r"During task with name '([^']+)'", note)
        if m and m.group(1) in DOMAINS:
            return m.group(1)
    return default


class _Where:
    """The agent a run is in, for error messages."""

    agent = "supervisor"


def _is_offline(model: BaseChatModel) -> bool:
    inner = getattr(model, "inner", None)
    return isinstance(model, OfflineChatModel) or isinstance(inner, OfflineChatModel)


def _model_where(settings: Settings, model: BaseChatModel) -> str:
    if settings.model.startswith("local:"):
        return settings.model  # its server's address is chosen when it starts
    name = getattr(model, "model_name", None) or getattr(model, "model", None) or settings.model
    base = getattr(model, "openai_api_base", None) or settings.base_url
    return f"{name} at {base}" if base else str(name or type(model).__name__)


def model_policy(settings: Settings, model: BaseChatModel) -> ModelPolicy:
    """How the agents treat `model`: the offline model gets every tool natively; real models get the
    settings' tool-call mode, tool subset and limits."""
    where = _model_where(settings, model)
    if _is_offline(model):
        return ModelPolicy(
            where=where, tool_calls="native", max_tools=None, max_steps=settings.agent_max_steps
        )
    return ModelPolicy(
        where=where,
        tool_calls=settings.resolved_tool_calls(),
        max_tools=settings.max_tools,
        max_steps=settings.agent_max_steps,
        tool_retries=settings.tool_retries,
        direct_answers=settings.resolved_direct_answers(),
    )
