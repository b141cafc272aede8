"""Runs over Server-Sent Events: send a message, or answer an approval, and stream what happens.

Every check (ownership, role, pending approval, busy thread) runs in a dependency, before the response
starts, so a refused request gets a proper status and problem object rather than a 200 stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from agents.events import Event
from agents.gate import ApprovalDecision
from server.models import ApprovalIn, MessageIn
from server.problems import PROBLEM_RESPONSES
from server.runs import PreparedRun, RunRequest
from server.state import CurrentPrincipal, CurrentState
from server.threads import ThreadIdPath

__all__ = ["router"]

router = APIRouter(prefix="/v1/threads", tags=["runs"])

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    200: {
        "description": (
            "A `text/event-stream`: one event per step, named by its `type` (route, token, tool_call, "
            "tool_result, interrupt, final, error); `data` is the event as JSON."
        ),
        "content": {"text/event-stream": {}},  # the item schema is filled in by server.openapi
    },
}


def _claim(state: CurrentState, thread_id: str) -> None:
    # a client may send the next request as soon as it has the event it needs (say, the interrupt), while
    # the previous run still writes its last checkpoint: give that a moment before answering 409
    if not state.busy.claim(thread_id, wait=2.0):
        raise HTTPException(409, f"thread {thread_id} is busy with another run; retry when it has finished")


def _may_wait_for_approval(state: CurrentState, thread_id: str) -> bool:
    """False for a thread whose last run ended with nothing pending (or that never ran): its status row,
    read after the claim, says `idle`, so the checkpoint need not be loaded (the run checks once more)."""
    info = state.runtime.store.thread(thread_id)
    return info is None or info.status != "idle"


def _prepared(run: PreparedRun) -> Iterator[PreparedRun]:
    try:
        yield run
    finally:
        if not run.submitted:  # the client left before the run started: free the thread
            run.finish()


async def prepare_message(
    thread_id: ThreadIdPath, body: MessageIn, state: CurrentState, principal: CurrentPrincipal
) -> AsyncIterator[PreparedRun]:
    # async, so the common case (an idle thread of the caller's) costs the event loop two indexed reads
    # instead of a hop through the worker thread pool; waiting for a busy thread and loading a checkpoint
    # still happen on a worker thread
    state.owned_thread(thread_id, principal)
    if not state.busy.claim(thread_id):
        await run_in_threadpool(_claim, state, thread_id)
    try:
        waiting = (
            _may_wait_for_approval(state, thread_id)
            and (await run_in_threadpool(state.runtime.pending, thread_id, user=principal.user)) is not None
        )
    except BaseException:
        state.busy.release(thread_id)
        raise
    if waiting:
        state.busy.release(thread_id)
        raise HTTPException(
            409, f"thread {thread_id} waits for an approval: POST /v1/threads/{thread_id}/approvals first"
        )
    read_only = state.read_only_for(principal)

    def start() -> Iterator[Event]:
        return state.runtime.stream(body.text, thread_id=thread_id, user=principal.user, read_only=read_only)

    request = RunRequest("message", thread_id, principal.user, text=body.text, read_only=read_only)
    run = PreparedRun("message", thread_id, start, state.busy, request)
    try:
        yield run
    finally:
        if not run.submitted:  # the client left before the run started: free the thread
            run.finish()


def prepare_approval(
    thread_id: ThreadIdPath, body: ApprovalIn, state: CurrentState, principal: CurrentPrincipal
) -> Iterator[PreparedRun]:
    state.owned_thread(thread_id, principal)
    if not principal.can_approve or state.settings.read_only:
        why = "the server is read-only" if state.settings.read_only else f"role {principal.role!r}"
        raise HTTPException(403, f"{principal.user} may not answer approvals: {why}")
    _claim(state, thread_id)
    if state.runtime.pending(thread_id, user=principal.user) is None:
        state.busy.release(thread_id)
        raise HTTPException(409, f"thread {thread_id} has no pending approval")
    state.metrics.inc("opsgraph_approvals_total", decision=body.decision)
    decision = ApprovalDecision(
        decision=body.decision, args=body.args, comment=body.comment, user=principal.user
    )

    def start() -> Iterator[Event]:
        return state.runtime.stream_resume(thread_id, decision, user=principal.user)

    request = RunRequest("approval", thread_id, principal.user, decision=decision)
    yield from _prepared(PreparedRun("approval", thread_id, start, state.busy, request))


async def _sse(state: CurrentState, run: PreparedRun) -> AsyncIterator[ServerSentEvent]:
    number = 0
    async for event in state.pump.stream(run):
        number += 1
        yield ServerSentEvent(data=event, event=event.type, id=str(number))


@router.post(
    "/{thread_id}/messages",
    response_class=EventSourceResponse,
    responses=_STREAM_DOC,
    summary="Send a message; streams the run",
)
async def post_message(
    state: CurrentState, run: Annotated[PreparedRun, Depends(prepare_message)]
) -> AsyncIterator[ServerSentEvent]:
    async for item in _sse(state, run):
        yield item


@router.post(
    "/{thread_id}/approvals",
    response_class=EventSourceResponse,
    responses=_STREAM_DOC,
    summary="Approve, reject or edit the pending call; streams the resumed run",
)
async def post_approval(
    state: CurrentState, run: Annotated[PreparedRun, Depends(prepare_approval)]
) -> AsyncIterator[ServerSentEvent]:
    async for item in _sse(state, run):
        yield item
