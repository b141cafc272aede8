"""Runs over Server-Sent Events: send a message, or answer an approval, and stream what happens.

Every check (ownership, role, pending approval, busy thread) runs in a dependency, before the response
starts, so a refused request gets a proper status and problem object rather than a 200 stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from agents.events import ErrorEvent
from agents.gate import ApprovalDecision
from server.models import ApprovalIn, CancelOut, MessageIn
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
            "A `text/event-stream`: one event per step, named by its `type` (start, route, token, tool_call, "
            "tool_result, interrupt, final, error, cancelled); `data` is the event as JSON."
        ),
        "content": {"text/event-stream": {}},  # the item schema is filled in by server.openapi
    },
}


async def _claimed(state: CurrentState, request: RunRequest) -> PreparedRun:
    """The run, holding its thread's busy flag. The common case (an idle thread) costs the event loop one
    check; a busy one is waited for on a worker thread: a client may send the next request as soon as it
    has the event it needs (say, the interrupt), while the previous run still writes its last checkpoint,
    so that gets a moment before the answer is 409."""
    thread_id = request.thread_id
    if not state.busy.claim(thread_id) and not await run_in_threadpool(state.busy.claim, thread_id, 2.0):
        raise HTTPException(409, f"thread {thread_id} is busy with another run; retry when it has finished")
    return PreparedRun(request, state.runtime, state.busy)


async def _pending(state: CurrentState, thread_id: str, user: str) -> bool:
    """Whether the thread waits for an approval. A thread whose status row (read after the claim) says
    `idle` ended its last run with nothing pending, or never ran: its checkpoint is not loaded (the run
    checks once more); otherwise it is, on a worker thread."""
    info = state.runtime.store.thread(thread_id)
    if info is not None and info.status == "idle":
        return False
    return await run_in_threadpool(state.runtime.pending, thread_id, user=user) is not None


# Both dependencies are async: their reads are a few indexed rows, cheaper on the event loop than a hop
# through the worker thread pool. Each frees the thread again unless the run was handed to a worker:
# when a check refuses it, or when the client leaves before the run starts.


async def prepare_message(
    thread_id: ThreadIdPath, body: MessageIn, state: CurrentState, principal: CurrentPrincipal
) -> AsyncIterator[PreparedRun]:
    state.owned_thread(thread_id, principal)
    read_only = state.read_only_for(principal)
    request = RunRequest("message", thread_id, principal.user, text=body.text, read_only=read_only)
    run = await _claimed(state, request)
    try:
        if await _pending(state, thread_id, principal.user):
            raise HTTPException(
                409, f"thread {thread_id} waits for an approval: POST /v1/threads/{thread_id}/approvals first"
            )
        yield run
    finally:
        if not run.submitted:
            run.finish()


async def prepare_approval(
    thread_id: ThreadIdPath, body: ApprovalIn, state: CurrentState, principal: CurrentPrincipal
) -> AsyncIterator[PreparedRun]:
    state.owned_thread(thread_id, principal)
    if not principal.can_approve or state.settings.read_only:
        why = "the server is read-only" if state.settings.read_only else f"role {principal.role!r}"
        raise HTTPException(403, f"{principal.user} may not answer approvals: {why}")
    decision = ApprovalDecision(
        decision=body.decision, args=body.args, comment=body.comment, user=principal.user
    )
    run = await _claimed(state, RunRequest("approval", thread_id, principal.user, decision=decision))
    claim = ""
    try:
        # the decision is claimed in the database before the response starts: of every request for this
        # approval, from any server process, the CLI or Slack, one gets it; the others get 409 here
        claim = await run_in_threadpool(
            state.runtime.claim_approval, thread_id, decision, user=principal.user
        )
        run.request = replace(run.request, claim=claim)
        state.metrics.inc("opsgraph_approvals_total", decision=body.decision)
        yield run
    finally:
        if not run.submitted:
            run.finish()
            state.runtime.release_claim(thread_id, claim)


async def _sse(state: CurrentState, run: PreparedRun) -> AsyncIterator[ServerSentEvent]:
    number = 0
    async for event in state.pump.stream(run):
        number += 1
        if isinstance(event, ErrorEvent):
            event = ErrorEvent(message=state.redact(event.message))
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


@router.post(
    "/{thread_id}/cancel",
    status_code=202,
    responses=PROBLEM_RESPONSES,
    summary="Stop the thread's run after its current step",
)
def cancel_run(thread_id: ThreadIdPath, state: CurrentState, principal: CurrentPrincipal) -> CancelOut:
    """The run's stream ends with a `cancelled` event once the step under way (a tool call) is done; the
    thread keeps its last checkpoint and takes the next message. `409` when no run of this thread is in
    progress on this server (with several processes, its run may be on another one)."""
    state.owned_thread(thread_id, principal)
    if not state.pump.cancel(thread_id, principal.user):
        raise HTTPException(409, f"thread {thread_id} has no run in progress on this server")
    return CancelOut(thread_id=thread_id)
