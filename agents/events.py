"""What a run streams to its caller (CLI, SSE, Slack): one small model per kind of event."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from agents.gate import ApprovalRequest

__all__ = [
    "CancelledEvent",
    "ErrorEvent",
    "Event",
    "FinalEvent",
    "InterruptEvent",
    "RouteEvent",
    "StartEvent",
    "TokenEvent",
    "ToolCallEvent",
    "ToolResultEvent",
]


class StartEvent(BaseModel):
    """Sent by the server as soon as it accepts a run, before the run starts: `queued` is 0 when a worker
    starts it at once, else its place in line for one. The CLI and the SDK in-process never send it."""

    type: Literal["start"] = "start"
    thread_id: str
    queued: int = 0


class RouteEvent(BaseModel):
    type: Literal["route"] = "route"
    agents: list[str]


class TokenEvent(BaseModel):
    type: Literal["token"] = "token"
    agent: str
    text: str


class ToolCallEvent(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    agent: str
    id: str
    tool: str
    args: dict[str, Any]


class ToolResultEvent(BaseModel):
    type: Literal["tool_result"] = "tool_result"
    agent: str
    id: str
    tool: str
    content: str
    """What the model read (fenced where it came from the cluster or a file)."""
    artifact: dict[str, Any] | None = None
    """The structured result for people, when the tool has one (`tools.present.present` renders it)."""
    markdown: str = ""
    """What a person reads (`tools.present.readable`): the artifact presented, or the content made
    readable, without fence markers or raw JSON."""


class InterruptEvent(BaseModel):
    type: Literal["interrupt"] = "interrupt"
    thread_id: str
    approval: ApprovalRequest


class FinalEvent(BaseModel):
    type: Literal["final"] = "final"
    thread_id: str
    answer: str
    status: Literal["done", "error"] = "done"
    """`error` when a tool call of the run failed (the answer may still explain it)."""
    error: str | None = None
    """The failed tool calls, one per line (`tool: message`), as `RunResult.error`."""
    markdown: str = ""
    """The answer as a person reads it (`tools.markdown.readable_text`): no fence markers, no raw JSON."""


class ErrorEvent(BaseModel):
    type: Literal["error"] = "error"
    message: str


class CancelledEvent(BaseModel):
    """The run was stopped between two steps (`POST /v1/threads/{id}/cancel`, the web page's Stop): it
    ends here, and the thread keeps its last checkpoint and takes the next message."""

    type: Literal["cancelled"] = "cancelled"
    thread_id: str
    by: str | None = None


Event = Annotated[
    StartEvent
    | RouteEvent
    | TokenEvent
    | ToolCallEvent
    | ToolResultEvent
    | InterruptEvent
    | FinalEvent
    | ErrorEvent
    | CancelledEvent,
    Field(discriminator="type"),
]
