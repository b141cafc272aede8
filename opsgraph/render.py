"""How the CLI shows a run: streamed tokens, tool steps, approval previews, and the decision prompt."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.text import Text

from agents.events import (
    Event,
    FinalEvent,
    InterruptEvent,
    RouteEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from agents.gate import ApprovalDecision, ApprovalRequest
from agents.runtime import Runtime

__all__ = ["answer_approvals", "ask_decision", "render_approval", "render_events"]


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


def render_events(console: Console, events: Iterable[Event]) -> InterruptEvent | FinalEvent | None:
    """Print events as they come; return the run's last interrupt or final event."""
    streaming = False
    spoke = False  # whether any answer text was streamed; if not, the final answer is printed whole
    last: InterruptEvent | FinalEvent | None = None
    for event in events:
        if isinstance(event, TokenEvent):
            console.print(event.text, end="", markup=False, highlight=False)
            streaming = spoke = True
            continue
        if streaming:
            console.print()
            streaming = False
        if isinstance(event, RouteEvent):
            console.print(f"[dim]→ {' then '.join(event.agents)}[/dim]")
        elif isinstance(event, ToolCallEvent):
            console.print(Text(f"  {event.agent}: {event.tool}({json.dumps(event.args)})", style="dim"))
        elif isinstance(event, ToolResultEvent):
            lines = event.content.strip().splitlines() or [""]
            more = f"  (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
            console.print(Text(f"  ↳ {_short(lines[0], 160)}{more}", style="dim"))
        elif isinstance(event, InterruptEvent | FinalEvent):
            last = event
            if isinstance(event, FinalEvent) and not spoke:
                console.print(event.answer, markup=False, highlight=False)
    if streaming:
        console.print()
    return last


def render_approval(console: Console, request: ApprovalRequest) -> None:
    body = json.dumps({"args": request.args, "preview": request.preview}, indent=2, default=str)
    console.print(
        Panel(body, title=f"approval needed: {request.agent}.{request.tool}", border_style="yellow")
    )


def ask_decision(console: Console, request: ApprovalRequest) -> ApprovalDecision:
    """Prompt for approve / reject / edit; edit takes new arguments as JSON."""
    render_approval(console, request)
    choice = Prompt.ask("approve, reject or edit?", choices=["a", "r", "e"], default="r", console=console)
    if choice == "a":
        return ApprovalDecision(decision="approve")
    if choice == "r":
        return ApprovalDecision(
            decision="reject", comment=Prompt.ask("why (optional)", default="", console=console) or None
        )
    while True:
        raw = Prompt.ask("new arguments as JSON", default=json.dumps(request.args), console=console)
        try:
            args: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            console.print(f"[red]not JSON: {exc}[/red]")
            continue
        if isinstance(args, dict):
            return ApprovalDecision(decision="edit", args=args)
        console.print("[red]arguments must be a JSON object[/red]")


def answer_approvals(
    console: Console,
    runtime: Runtime,
    thread_id: str,
    *,
    auto_approve: bool,
    interactive: bool,
    fallback: Callable[[ApprovalRequest], ApprovalDecision | None],
    show: Callable[[Iterator[Event]], object],
) -> None:
    """Answer the thread's approvals until it runs to an end: `--yes`, the terminal prompt, or `fallback`
    (which returns None to leave the thread waiting)."""
    while (request := runtime.pending(thread_id)) is not None:
        if auto_approve:
            decision: ApprovalDecision | None = ApprovalDecision(decision="approve", comment="--yes")
        elif interactive and sys.stdin.isatty():
            decision = ask_decision(console, request)
        else:
            decision = fallback(request)
        if decision is None:
            return
        show(runtime.stream_resume(thread_id, decision))
