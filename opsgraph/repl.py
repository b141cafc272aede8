"""`opsgraph chat`: a terminal conversation with streamed answers and approval prompts."""

from __future__ import annotations

import sys
import uuid

from rich.console import Console

from agents.gate import ApprovalDecision
from agents.runtime import PendingApprovalError, ThreadNotFoundError
from opsgraph.render import answer_approvals, render_events
from opsgraph.sdk import Assistant

__all__ = ["run_repl"]

_BANNER = (
    "opsgraph chat: model {model}, checkpoints {db}\n"
    "thread {thread} · type a request ('list pods in payments'), 'exit' to quit"
)


def _decision_from_line(console: Console, tool: str) -> ApprovalDecision:
    """Without a terminal (a script pipes the conversation in), the next input line decides."""
    console.print(f"approve {tool}? (a)pprove / (r)eject: ", end="")
    answer = sys.stdin.readline().strip().lower()
    console.print(answer, markup=False)
    if answer in ("a", "approve", "y", "yes"):
        return ApprovalDecision(decision="approve")
    return ApprovalDecision(decision="reject", comment=f"answered {answer!r}" if answer else "no answer")


def run_repl(assistant: Assistant, *, thread_id: str | None = None, auto_approve: bool = False) -> None:
    console = Console(soft_wrap=True)
    thread_id = thread_id or uuid.uuid4().hex
    settings = assistant.settings
    console.print(
        _BANNER.format(
            model=settings.resolved_model(), db=settings.resolved_checkpoint_url(), thread=thread_id
        ),
        style="dim",
        highlight=False,
    )
    runtime = assistant.runtime
    while True:
        try:
            console.print("[bold]you>[/bold] ", end="")
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            console.print()
            return
        if not line or line.strip() in ("exit", "quit"):
            return
        if not line.strip():
            continue
        try:
            render_events(console, runtime.stream(line.strip(), thread_id=thread_id))
            answer_approvals(
                console,
                runtime,
                thread_id,
                auto_approve=auto_approve,
                interactive=True,
                fallback=lambda request: _decision_from_line(console, request.tool),
                show=lambda events: render_events(console, events),
            )
        except (PendingApprovalError, ThreadNotFoundError) as exc:
            console.print(f"[red]error: {exc}[/red]")
