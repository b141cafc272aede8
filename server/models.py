"""The HTTP API's request and response bodies, shared by the server and `opsgraph.Client`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.gate import ApprovalRequest
from agents.settings import Role
from agents.store import AuditEntry

__all__ = [
    "ApprovalIn",
    "AuditEntry",
    "CancelOut",
    "Health",
    "MessageIn",
    "MessageOut",
    "Problem",
    "ProblemField",
    "ThreadCreate",
    "ThreadDetail",
    "ThreadOut",
    "ToolCallOut",
    "WhoAmI",
]

THREAD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
CHOSEN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,116}$"
"""A chosen id leaves room for the owner's suffix (11 characters) within THREAD_ID_PATTERN."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThreadCreate(_Input):
    """Start a thread. Leave `thread_id` out to get a fresh random one."""

    title: str = Field(default="", max_length=200, description="Shown in the thread list.")
    thread_id: str | None = Field(
        default=None,
        pattern=CHOSEN_ID_PATTERN,
        description=(
            "An id of your choosing. It is made yours with a suffix (`pay-1` → `pay-1.3f9a2c1b7e`): use the "
            "`thread_id` of the answer from then on. Two users may choose the same id without meeting."
        ),
    )


class MessageIn(_Input):
    text: str = Field(min_length=1, max_length=8000, description="The request, e.g. 'list pods in payments'.")


class ApprovalIn(_Input):
    """The answer to a pending approval. `edit` runs the call with `args` merged over the proposed ones."""

    decision: Literal["approve", "reject", "edit"]
    args: dict[str, Any] | None = None
    comment: str | None = Field(default=None, max_length=2000, description="Kept in the audit log.")

    @model_validator(mode="after")
    def _args_only_with_edit(self) -> ApprovalIn:
        if self.decision == "edit" and not self.args:
            raise ValueError("decision 'edit' needs `args`, the arguments to run the call with")
        if self.decision != "edit" and self.args is not None:
            raise ValueError("`args` is only allowed with decision 'edit'")
        return self


class ThreadOut(BaseModel):
    thread_id: str
    title: str
    status: str = Field(description="idle | running | interrupted | error")
    created_at: str
    updated_at: str
    reason: str | None = Field(
        default=None, description="Why it is interrupted with nothing to approve: its run's process died."
    )


class ToolCallOut(BaseModel):
    id: str
    name: str
    args: dict[str, Any]


class MessageOut(BaseModel):
    role: Literal["user", "assistant", "tool"]
    content: str
    agent: str | None = Field(default=None, description="The agent that wrote it (assistant messages).")
    tool: str | None = Field(default=None, description="The tool whose result this is (tool messages).")
    tool_call_id: str | None = None
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    markdown: str = Field(
        default="",
        description="What a person reads: a tool result's artifact presented (or its text made readable), "
        "an answer without fence markers or raw JSON.",
    )
    artifact: dict[str, Any] | None = Field(default=None, description="A tool result's artifact, if any.")


class ThreadDetail(ThreadOut):
    messages: list[MessageOut]
    pending: ApprovalRequest | None = Field(default=None, description="The approval the thread waits on.")


class WhoAmI(BaseModel):
    user: str
    role: Role
    can_approve: bool
    read_only: bool = Field(description="Mutating tools are refused for this user.")
    cluster: str = Field(
        default="", description="The cluster the tools act on, as the approval card says it."
    )


class CancelOut(BaseModel):
    thread_id: str
    status: Literal["stopping"] = Field(
        default="stopping", description="The run stops after its current step; its stream says `cancelled`."
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    checkpoint: str = Field(description="The checkpoint backend: memory, sqlite or postgres.")
    auth: bool = Field(description="Whether bearer tokens are required.")
    read_only: bool


class ProblemField(BaseModel):
    pointer: str = Field(description="JSON pointer into the request, e.g. /body/text.")
    message: str


class Problem(BaseModel):
    """An error, as an RFC 9457 problem object (`application/problem+json`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemField] | None = None
