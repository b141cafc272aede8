"""The approval gate: a wrapper around tools, decided by a predicate, that pauses mutating calls.

A call the predicate selects stops the graph with `interrupt()`, carrying the tool's own preview of the
change; the run resumes with `approve`, `reject` or `edit` (new arguments). Read-only mode refuses such
calls outright. Every call, gated or not, is appended to the audit log once it has an outcome.

A gated tool always answers `(text, artifact)`: the text the model reads and, when the tool has one, the
artifact people see (see `tools.present`); a refusal or an error has no artifact.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from agents.store import AuditEntry, Store
from tools.base import is_mutating, preview_call

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
    agent: str
    tool: str
    args: dict[str, Any]
    preview: dict[str, Any] = Field(default_factory=dict)


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


class _GatedCall:
    def __init__(
        self, tool: BaseTool, agent: str, store: Store, read_only: bool, predicate: ApprovalPredicate
    ) -> None:
        self.tool, self.agent, self.store = tool, agent, store
        self.read_only, self.predicate = read_only, predicate

    def __call__(self, config: RunnableConfig, **args: Any) -> ToolOutput:
        configurable = config.get("configurable", {})
        entry = AuditEntry(
            thread_id=str(configurable.get("thread_id", "")),
            agent=self.agent,
            tool=self.tool.name,
            args=args,
            actor=str(configurable.get("user", "")),
        )
        if self.predicate(self.tool, args):
            if self.read_only or configurable.get("read_only"):  # per run: e.g. a readonly API role
                message = (
                    f"refused: {self.tool.name} changes the infrastructure and opsgraph is in read-only mode"
                )
                self._log(entry, message, status="refused", decision="refused")
                return message, None
            request = ApprovalRequest(
                agent=self.agent, tool=self.tool.name, args=args, preview=preview_call(self.tool, args)
            )
            decision = ApprovalDecision.model_validate(interrupt(request.model_dump()))
            entry.approver = decision.user or entry.actor
            if decision.decision == "reject":
                why = f": {decision.comment}" if decision.comment else ""
                message = f"The user rejected {self.tool.name}({args}){why}. Nothing was changed."
                self._log(entry, message, status="rejected", decision="rejected")
                return message, None
            if decision.decision == "edit":
                args = {**args, **(decision.args or {})}
                entry.args = args
                entry.decision = "edited"
            else:
                entry.decision = "approved"
        return self._run(entry, args, config)

    def _run(self, entry: AuditEntry, args: dict[str, Any], config: RunnableConfig) -> ToolOutput:
        start = time.perf_counter()
        try:
            content, artifact = self._invoke(args, config)
        except ValidationError as exc:
            message = f"error: invalid arguments for {self.tool.name}: {exc.errors()[0].get('msg', exc)}"
            self._log(entry, message, status="error", started=start)
            return message, None
        except Exception as exc:  # the model sees the failure and can explain or retry
            message = f"error: {self.tool.name} failed: {type(exc).__name__}: {exc}"
            self._log(entry, message, status="error", started=start)
            return message, None
        self._log(entry, content, status="ok", started=start)
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
        )
        wrapped.append(gated)
    return wrapped
