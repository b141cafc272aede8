"""The approval gate: a wrapper around tools, decided by a predicate, that pauses mutating calls.

A call the predicate selects stops the graph with `interrupt()`, carrying the tool's own preview of the
change; the run resumes with `approve`, `reject` or `edit` (new arguments). Read-only mode refuses such
calls outright, and a preview whose dry run fails is reported as the call's error, with no approval asked.
Every call, gated or not, is appended to the audit log once it has an outcome.

Each request for approval is recorded in the store under an id derived from the graph task that asks
(`Store.add_approval`), so that resuming replays the request as it was shown instead of computing a new
preview, and the call runs only for the one caller that wins `Store.start_execution` for it. The call runs
under its preview's precondition (`tools.base.approved_write`): if the target changed since the preview,
the tool writes nothing and raises `PreconditionFailedError`, and the person is asked again with a fresh
preview (a new request, a new interrupt); an `edit` is dry-run and asked for again the same way.

A gated tool always answers `(text, artifact)`: the text the model reads and, when the tool has one, the
artifact people see (see `tools.present`); a refusal has no artifact. A failure (the tool raised, or
answered an error as `tools.base.tool_failure` reads it) is audited `error` and becomes a `ToolMessage`
with status `error`, which the run's status reports.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.config import get_config
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from agents.leases import new_token
from agents.stop import raise_if_stopped
from agents.store import AuditEntry, Store
from tools.base import (
    PreconditionFailedError,
    WriteCheck,
    approved_write,
    is_mutating,
    preview_call,
    preview_failure,
    tool_failure,
)

__all__ = [
    "ApprovalDecision",
    "ApprovalPredicate",
    "ApprovalRequest",
    "ToolOutput",
    "gate_tools",
    "requires_approval",
]

ApprovalPredicate = Callable[[BaseTool, dict[str, Any]], bool]


def requires_approval(tool: BaseTool, args: dict[str, Any]) -> bool:
    """The default predicate: every tool that declares itself mutating."""
    return is_mutating(tool)


class ApprovalRequest(BaseModel):
    """What the person deciding sees: who wants to do what, and the tool's preview of the change."""

    kind: Literal["approval"] = "approval"
    id: str = ""
    """The approval's id: what a decision claims (`Runtime.claim_approval`)."""
    agent: str
    tool: str
    args: dict[str, Any]
    preview: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    """Why this is asked (again): the arguments were edited, or the target changed since the last preview."""


class ApprovalDecision(BaseModel):
    """The answer that resumes a paused call. `edit` runs the call with `args` instead."""

    decision: Literal["approve", "reject", "edit"]
    args: dict[str, Any] | None = None
    user: str | None = None
    comment: str | None = None


ToolOutput = tuple[str | list[Any], dict[str, Any] | None]
"""What a gated tool returns: the model-facing content and the artifact for people (or None)."""


def _as_content(result: Any) -> str | list[Any]:
    if isinstance(result, str | list):
        return result
    try:
        return json.dumps(result, ensure_ascii=False)
    except TypeError:
        return str(result)


def _summary(result: Any, limit: int = 500) -> str:
    text = result if isinstance(result, str) else str(getattr(result, "content", result))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _approval_ids(thread_id: str) -> Callable[[int], str]:
    """Approval ids for the calling graph task: the same on every replay of the task (its checkpoint
    namespace names the task), one per request it makes (`attempt`: 0, then 1 after an edit, ...)."""
    ns = str(get_config().get("configurable", {}).get("checkpoint_ns", ""))

    def approval_id(attempt: int) -> str:
        return hashlib.sha256(f"{thread_id}\0{ns}\0{attempt}".encode()).hexdigest()[:32]

    return approval_id


class _GatedCall:
    def __init__(
        self, tool: BaseTool, agent: str, store: Store, read_only: bool, predicate: ApprovalPredicate
    ) -> None:
        self.tool, self.agent, self.store = tool, agent, store
        self.read_only, self.predicate = read_only, predicate

    def __call__(self, config: RunnableConfig, **args: Any) -> ToolOutput:
        configurable = config.get("configurable", {})
        raise_if_stopped(configurable)  # a stopped run calls nothing more (agents/stop.py)
        entry = AuditEntry(
            thread_id=str(configurable.get("thread_id", "")),
            agent=self.agent,
            tool=self.tool.name,
            args=args,
            actor=str(configurable.get("user", "")),
        )
        if not self.predicate(self.tool, args):
            return self._run(entry, args, config)
        if self.read_only or configurable.get("read_only"):  # per run: e.g. a readonly API role
            message = (
                f"refused: {self.tool.name} changes the infrastructure and opsgraph is in read-only mode"
            )
            self._log(entry, message, status="refused", decision="refused")
            return message, None
        return self._gated(entry, args, config)

    def _gated(self, entry: AuditEntry, args: dict[str, Any], config: RunnableConfig) -> ToolOutput:
        ids, reason, edited = _approval_ids(entry.thread_id), None, False
        for attempt in itertools.count():
            request = self._request(ids(attempt), entry, args, reason)
            decision = ApprovalDecision.model_validate(interrupt(request.model_dump()))
            entry.approval_id, entry.approver = request.id, decision.user or entry.actor
            if decision.decision == "reject":
                why = f": {decision.comment}" if decision.comment else ""
                message = f"The user rejected {self.tool.name}({args}){why}. Nothing was changed."
                self.store.finish_approval(request.id, "rejected", message)
                self._log(entry, message, status="rejected", decision="rejected")
                return message, None
            if decision.decision == "edit":  # a new dry run and preview of the edited call, asked again
                self.store.finish_approval(request.id, "edited")
                args, edited = {**args, **(decision.args or {})}, True
                entry.args = args
                reason = f"{entry.approver} edited the call: this is the dry run of the edited arguments"
                continue
            entry.decision = "edited" if edited else "approved"
            outcome = self._execute(entry, request, decision, config)
            if isinstance(outcome, str):  # not executed: ask again, with a fresh preview
                reason = outcome
                continue
            return outcome
        raise AssertionError("unreachable")

    def _request(
        self, approval_id: str, entry: AuditEntry, args: dict[str, Any], reason: str | None
    ) -> ApprovalRequest:
        """The request as first shown (replayed on resume), or a new one from a fresh preview."""
        record = self.store.approval(approval_id)
        if record is not None:
            return ApprovalRequest.model_validate(record.request)
        preview = preview_call(self.tool, args)
        failure = preview_failure(preview)
        if failure is not None:
            message = (
                f"error: the dry run of {self.tool.name} failed: {failure} "
                "(nothing was changed; no approval was asked)"
            )
            self._log(entry, message, status="error", decision="not_asked")
            raise ToolException(message)
        request = ApprovalRequest(
            id=approval_id, agent=self.agent, tool=self.tool.name, args=args, preview=preview, reason=reason
        )
        self.store.add_approval(approval_id, entry.thread_id, request.model_dump())
        return request

    def _execute(
        self, entry: AuditEntry, request: ApprovalRequest, decision: ApprovalDecision, config: RunnableConfig
    ) -> ToolOutput | str:
        """Run an approved call, once: its output, or why it must be asked again (a string)."""
        if not self.store.start_execution(request.id, new_token(), decision.model_dump()):
            return self._replayed(entry, request)
        entry.precondition = request.preview.get("precondition")
        with approved_write(entry.precondition) as check:
            try:
                content, artifact = self._run(entry, entry.args, config, check)
            except PreconditionFailedError as exc:  # nothing was written: ask again, from a fresh preview
                why = f"{self.tool.name}: the target changed since the preview: {exc}; nothing was changed"
                self.store.finish_approval(request.id, "conflict", why)
                self._log(entry, why, status="conflict")
                return why
            except ToolException as exc:
                self.store.finish_approval(request.id, "error", str(exc))
                raise
        self.store.finish_approval(request.id, "ok", _summary(content))
        return content, artifact

    def _replayed(self, entry: AuditEntry, request: ApprovalRequest) -> ToolOutput | str:
        """An approval someone executed already: this is a replay of its task (after a restart)."""
        record = self.store.approval(request.id)
        if record is not None and record.status == "done":
            if record.outcome == "error":
                raise ToolException(record.result)
            if record.outcome == "ok":
                return record.result, None
            return record.result or f"the last attempt ended {record.outcome}"
        # executing, and this task runs again: the process that ran it stopped before it could record
        # the outcome, so whether the change was made is unknown; a fresh preview shows where things are
        why = (
            "the process carrying out the approved call stopped before it recorded the outcome; "
            "whether the change was made is unknown: check this fresh preview"
        )
        self.store.finish_approval(request.id, "unknown", why)
        self._log(entry, why, status="unknown")
        return why

    def _run(
        self, entry: AuditEntry, args: dict[str, Any], config: RunnableConfig, check: WriteCheck | None = None
    ) -> ToolOutput:
        start = time.perf_counter()
        try:
            content, artifact = self._invoke(args, config)
        except PreconditionFailedError:
            if check is not None:
                entry.observed, entry.duration_ms = (
                    check.observed or None,
                    (time.perf_counter() - start) * 1000,
                )
            raise
        except ValidationError as exc:
            message = f"error: invalid arguments for {self.tool.name}: {exc.errors()[0].get('msg', exc)}"
            self._log(entry, message, status="error", started=start)
            raise ToolException(message) from exc
        except Exception as exc:  # the model sees the failure and can explain or retry
            message = f"error: {self.tool.name} failed: {type(exc).__name__}: {exc}"
            self._log(entry, message, status="error", started=start)
            raise ToolException(message) from exc
        failure = tool_failure(content)
        if check is not None:
            entry.observed = check.observed or None
        self._log(entry, content, status="ok" if failure is None else "error", started=start)
        if failure is not None:  # reported in the tool's own words, which the model reads
            raise ToolException(content)
        return content, artifact

    def _invoke(self, args: dict[str, Any], config: RunnableConfig) -> ToolOutput:
        callbacks: RunnableConfig = {"callbacks": config.get("callbacks")}
        if self.tool.response_format != "content_and_artifact":
            return _as_content(self.tool.invoke(args, config=callbacks)), None
        # invoked with a tool call, a content-and-artifact tool answers a ToolMessage carrying both
        call = {"type": "tool_call", "name": self.tool.name, "args": args, "id": f"gate-{uuid.uuid4().hex}"}
        message = self.tool.invoke(call, config=callbacks)
        artifact = getattr(message, "artifact", None)
        return _as_content(message.content), artifact if isinstance(artifact, dict) else None

    def _log(
        self,
        entry: AuditEntry,
        result: Any,
        *,
        status: str,
        decision: str | None = None,
        started: float | None = None,
    ) -> None:
        entry.result, entry.status = _summary(result), status
        if decision is not None:
            entry.decision = decision
        if started is not None:
            entry.duration_ms = (time.perf_counter() - started) * 1000
        self.store.record(entry)


def gate_tools(
    tools: Sequence[BaseTool],
    *,
    agent: str,
    store: Store,
    read_only: bool = False,
    predicate: ApprovalPredicate = requires_approval,
) -> list[BaseTool]:
    """Wrap `tools` so the predicate's calls need approval and every call is audited."""
    wrapped: list[BaseTool] = []
    for tool in tools:
        call = _GatedCall(tool, agent, store, read_only, predicate)

        def run(config: RunnableConfig, _call: _GatedCall = call, **args: Any) -> ToolOutput:
            return _call(config, **args)

        gated = StructuredTool(
            name=tool.name,
            description=tool.description,
            args_schema=tool.args_schema if tool.args_schema is not None else tool.get_input_schema(),
            func=run,
            metadata={**(tool.metadata or {}), "gated": True, "agent": agent},
            response_format="content_and_artifact",
            handle_tool_error=True,  # a ToolException becomes a ToolMessage with status "error"
        )
        wrapped.append(gated)
    return wrapped
