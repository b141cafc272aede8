"""`/v1/threads`: create, list and read threads, and read their audit trail."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agents.store import AuditEntry, ThreadInfo
from server.models import THREAD_ID_PATTERN, MessageOut, ThreadCreate, ThreadDetail, ThreadOut, ToolCallOut
from server.problems import PROBLEM_RESPONSES
from server.state import CurrentPrincipal, CurrentState
from tools.markdown import readable_text, without_repeats
from tools.present import readable

__all__ = ["ThreadIdPath", "owned_id", "router", "transcript"]

router = APIRouter(prefix="/v1/threads", tags=["threads"], responses=PROBLEM_RESPONSES)

ThreadIdPath = Annotated[str, Path(pattern=THREAD_ID_PATTERN, description="The thread's id.")]


def _out(info: ThreadInfo) -> ThreadOut:
    return ThreadOut.model_validate(info.model_dump(exclude={"owner"}))


def transcript(messages: list[AnyMessage]) -> list[MessageOut]:
    """The conversation as a person reads it: requests, tool calls and results, and answers."""
    out: list[MessageOut] = []
    shown: list[tuple[str, str]] = []  # this turn's results people see rendered: answers need not repeat them
    for message in messages:
        if isinstance(message, HumanMessage):
            shown = []
            out.append(MessageOut(role="user", content=message.text))
        elif isinstance(message, AIMessage):
            calls = [
                ToolCallOut(id=c["id"] or "", name=c["name"], args=c["args"]) for c in message.tool_calls
            ]
            out.append(
                MessageOut(
                    role="assistant",
                    content=message.text,
                    agent=message.name,
                    tool_calls=calls,
                    markdown=readable_text(without_repeats(message.text, shown)) if message.text else "",
                )
            )
        elif isinstance(message, ToolMessage):
            artifact = message.artifact if isinstance(message.artifact, dict) else None
            if artifact is not None:
                shown.append((message.name or "", message.text))
            out.append(
                MessageOut(
                    role="tool",
                    content=message.text,
                    tool=message.name,
                    tool_call_id=message.tool_call_id,
                    markdown=readable(message.text, artifact),
                    artifact=artifact,
                )
            )
    return out


def owned_id(chosen: str, user: str) -> str:
    """The id of the thread `user` asks to create as `chosen`. Ids are global, so a bare chosen id taken by
    someone else could only be refused, and the refusal would tell the caller it exists: the owner's suffix
    gives every user their own ids."""
    return f"{chosen}.{hashlib.sha256(user.encode()).hexdigest()[:10]}"


@router.post("", status_code=201, summary="Start a thread")
def create_thread(body: ThreadCreate, state: CurrentState, principal: CurrentPrincipal) -> ThreadOut:
    if body.thread_id is None:
        thread_id = uuid.uuid4().hex
    else:
        thread_id = owned_id(body.thread_id, principal.user)
        if state.runtime.store.thread(thread_id) is not None:
            raise HTTPException(
                409,
                f"you already have thread {body.thread_id} ({thread_id}); pick another id or leave it out",
            )
    return _out(state.runtime.store.touch_thread(thread_id, principal.user, body.title, "idle"))


@router.get("", summary="List your threads, most recent first")
def list_threads(
    state: CurrentState, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ThreadOut]:
    return [_out(t) for t in state.runtime.store.threads(owner=principal.user, limit=limit)]


@router.get("/{thread_id}", summary="A thread's messages, status and pending approval")
def get_thread(thread_id: ThreadIdPath, state: CurrentState, principal: CurrentPrincipal) -> ThreadDetail:
    info = state.owned_thread(thread_id, principal)
    runtime = state.runtime
    messages = runtime.messages(thread_id, user=principal.user)
    pending = runtime.pending(thread_id, user=principal.user)
    return ThreadDetail(**_out(info).model_dump(), messages=transcript(messages), pending=pending)


@router.get("/{thread_id}/audit", summary="Every tool call of a thread, with its approval decision")
def get_audit(thread_id: ThreadIdPath, state: CurrentState, principal: CurrentPrincipal) -> list[AuditEntry]:
    state.owned_thread(thread_id, principal)
    return state.runtime.store.audit(thread_id)
