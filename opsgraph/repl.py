"""`opsgraph chat`: a terminal conversation with line editing, history, streamed answers and approvals.

On a terminal, input comes from prompt_toolkit (arrows, Ctrl-R search, history kept in the data
directory). Ctrl-C stops the request being answered (the thread keeps its last consistent checkpoint and
takes the next request) or clears the line being typed; Ctrl-D or `exit` leaves. Without a terminal (a
script pipes the conversation in), each line is a request and an approval is answered by the next line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from agents.events import Event
from agents.gate import ApprovalDecision, ApprovalRequest
from agents.runtime import ModelError, PendingApprovalError, ThreadNotFoundError
from opsgraph.render import (
    Where,
    answer_approvals,
    ask_decision,
    describe_cluster,
    note_model_load,
    render_events,
    stop_on_ctrl_c,
)
from opsgraph.sdk import Assistant

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

__all__ = ["HISTORY_FILE", "run_repl"]

HISTORY_FILE = "chat_history"
"""The file in the data directory that keeps what was typed, between sessions."""

_HELP = (
    "type a request ('list pods in payments', 'scale deploy frontend to 4 in shop'); "
    "/approve, /reject [why] or /show for a change waiting for you; /new starts a thread; "
    "Ctrl-C stops an answer, Ctrl-D or 'exit' quits"
)


def _banner(assistant: Assistant, thread_id: str, where: Where) -> Text:
    settings = assistant.settings
    database = settings.resolved_checkpoint_url()
    database = database.split("@")[-1] if database.startswith("postgres") else database
    rows = [
        ("model", settings.resolved_model()),
        ("cluster", where.cluster),
        ("database", database),
        ("you", f"{where.user}, thread {thread_id}"),
    ]
    text = Text.assemble(("opsgraph chat", "bold"), "\n")
    for label, value in rows:
        text.append(f"  {label:<9}", style="dim")
        text.append(f"{value}\n")
    text.append(_HELP, style="dim")
    return text


class _Input:
    """Where the lines come from: prompt_toolkit on a terminal, else standard input."""

    def __init__(self, history: Path, console: Console) -> None:
        self.console = console
        self.tty = sys.stdin.isatty() and console.is_terminal
        self._session: PromptSession[str] | None = None
        if self.tty:
            from prompt_toolkit import PromptSession
            from prompt_toolkit.history import FileHistory

            history.parent.mkdir(parents=True, exist_ok=True)
            self._session = PromptSession(history=FileHistory(str(history)))

    def read(self, prompt: str) -> str:
        """The next line; EOFError at the end (Ctrl-D), KeyboardInterrupt for Ctrl-C while typing."""
        if self._session is not None:
            from prompt_toolkit.formatted_text import HTML

            return str(self._session.prompt(HTML(f"<b>{prompt}</b>")))
        self.console.print(prompt, end="", markup=False, highlight=False)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        self.console.print(line.rstrip("\n"), markup=False, highlight=False)
        return line.rstrip("\n")


def _decision_from_line(lines: _Input, request: ApprovalRequest) -> ApprovalDecision:
    """Without a terminal, the next input line decides."""
    try:
        answer = lines.read(f"approve {request.tool}? (a)pprove / (r)eject: ").strip().lower()
    except EOFError:
        answer = ""
    if answer in ("a", "approve", "y", "yes"):
        return ApprovalDecision(decision="approve")
    return ApprovalDecision(decision="reject", comment=f"answered {answer!r}" if answer else "no answer")


def run_repl(assistant: Assistant, *, thread_id: str, auto_approve: bool = False) -> None:
    console = Console(soft_wrap=not sys.stdout.isatty())  # a script reading the output gets whole lines
    runtime = assistant.runtime
    settings = assistant.settings
    where = Where(
        cluster=describe_cluster(runtime.tool_context, sandbox=settings.wants_sandbox()), user=settings.user
    )
    lines = _Input(settings.data_dir / HISTORY_FILE, console)
    console.print(_banner(assistant, thread_id, where), highlight=False)

    def show(events: Iterator[Event]) -> None:
        with stop_on_ctrl_c(console, runtime, thread_id, settings.user):
            render_events(console, events)

    def decide(request: ApprovalRequest) -> ApprovalDecision | None:
        return _decision_from_line(lines, request)

    def drive(events: Iterator[Event]) -> None:
        """Run, then answer approvals until the thread rests; Ctrl-C stops it and says where it stands."""
        try:
            show(events)
            answer_approvals(
                console,
                runtime,
                thread_id,
                auto_approve=auto_approve,
                interactive=True,
                fallback=decide,
                show=show,
                where=where,
            )
        except KeyboardInterrupt:
            pending = runtime.pending(thread_id)
            console.print(
                Text(
                    "stopped: the change waits for you (/approve, /reject or /show)"
                    if pending is not None
                    else "stopped: the thread keeps what was done so far; ask again or go on",
                    style="yellow",
                )
            )

    while True:
        try:
            line = lines.read("you> ").strip()
        except KeyboardInterrupt:  # Ctrl-C while typing clears the line, as in a shell
            continue
        except EOFError:  # Ctrl-D
            console.print()
            return
        if line in ("exit", "quit", "/exit", "/quit"):
            return
        if not line:
            continue
        try:
            if line.startswith("/"):
                thread_id = _command(line, assistant, thread_id, where, console, drive)
                continue
            pending = runtime.pending(thread_id)
            if pending is not None:  # the thread cannot take a request before this is answered
                console.print(Text("first, the change this thread waits for:", style="yellow"))
                drive(runtime.stream_resume(thread_id, _ask(console, pending, where, lines)))
                continue
            note_model_load(console, settings)
            drive(runtime.stream(line, thread_id=thread_id))
        except (ModelError, PendingApprovalError, ThreadNotFoundError) as exc:
            console.print(Text(f"error: {exc}", style="red"))
        except KeyboardInterrupt:
            console.print(Text("stopped", style="yellow"))


def _ask(console: Console, request: ApprovalRequest, where: Where, lines: _Input) -> ApprovalDecision:
    if lines.tty:
        return ask_decision(console, request, where)
    return _decision_from_line(lines, request)


def _command(
    line: str,
    assistant: Assistant,
    thread_id: str,
    where: Where,
    console: Console,
    drive: Callable[[Iterator[Event]], None],
) -> str:
    """A slash command; returns the thread to go on in."""
    import uuid

    from opsgraph.render import render_approval

    runtime = assistant.runtime
    word, _, rest = line.partition(" ")
    if word == "/new":
        thread_id = uuid.uuid4().hex
        console.print(Text(f"new thread {thread_id}", style="dim"))
    elif word in ("/approve", "/reject", "/show"):
        pending = runtime.pending(thread_id)
        if pending is None:
            console.print(Text("nothing waits for approval in this thread", style="dim"))
        elif word == "/show":
            render_approval(console, pending, where)
        else:
            decision = ApprovalDecision(
                decision="approve" if word == "/approve" else "reject", comment=rest.strip() or None
            )
            drive(runtime.stream_resume(thread_id, decision))
    elif word == "/thread":
        console.print(Text(f"thread {thread_id}", style="dim"))
    else:
        console.print(Text(_HELP, style="dim"))
    return thread_id
