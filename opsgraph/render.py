"""How the terminal shows a run: answers as Markdown, tool results as people read them, and the approval
screen (what will run, where, for whom, the dry run and the whole diff), with the decision prompt.

Everything a person reads goes through `tools.present.readable` (tool results) or
`tools.markdown.readable_text` (answers), so no fence marker and no JSON wall reaches the screen.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown, MarkdownElement, TableElement
from rich.padding import Padding
from rich.pager import Pager
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from agents.events import (
    CancelledEvent,
    Event,
    FinalEvent,
    InterruptEvent,
    RouteEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from agents.gate import ApprovalDecision, ApprovalRequest
from agents.models.factory import local_model_to_load
from agents.runtime import Runtime
from agents.settings import Settings
from tools.cluster import describe_cluster
from tools.markdown import json_markdown, readable_text, unfence

__all__ = [
    "Where",
    "answer_approvals",
    "approval_screen",
    "ask_decision",
    "call_text",
    "describe_cluster",
    "markdown",
    "note_model_load",
    "render_approval",
    "render_events",
    "stop_on_ctrl_c",
]

_FAILED = ("error:", "refused:", "The user rejected")


def note_model_load(console: Console, settings: Settings) -> None:
    """Say so before a request that will load a local model (the first, or the first after it was let go):
    otherwise the terminal shows nothing for the tens of seconds that takes."""
    name = local_model_to_load(settings)
    if name is not None:
        console.print(
            Text(
                f"loading the local model {name}: this request waits for it (it then stays loaded "
                f"{settings.local_keep_alive_s:g} s after its last use)",
                style="dim",
            )
        )


@dataclass(frozen=True)
class Where:
    """What the approval screen says about the run's surroundings: the cluster and who asked."""

    cluster: str
    user: str


class _TableElement(TableElement):
    """A Markdown table whose cells wrap instead of ending in '…': ids, paths and ARNs stay whole."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for part in super().__rich_console__(console, options):
            if isinstance(part, Table):
                for column in part.columns:
                    column.overflow = "fold"
            yield part


class _Markdown(Markdown):
    """rich's Markdown with a line break where the text has one (chat answers and tool text are written
    line by line; joining their lines into paragraphs would scramble them), and tables that never cut."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {**Markdown.elements, "table_open": _TableElement}

    def __init__(self, markup: str) -> None:
        super().__init__(markup, code_theme="ansi_dark", hyperlinks=True)
        for token in self.parsed:
            for child in token.children or ():
                if child.type == "softbreak":
                    child.type = "hardbreak"


def markdown(text: str) -> RenderableType:
    """Markdown for the terminal: tables, lists, code and diffs, with the text's own line breaks."""
    return _Markdown(text)


def call_text(tool: str, args: dict[str, Any]) -> str:
    """`scale_deployment(name=frontend, replicas=4, namespace=shop)`: a call as a person reads it."""
    shown = ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in args.items() if v is not None
    )
    return f"{tool}({shown})"


class _Answer:
    """The answer streaming in: rendered as Markdown up to its last complete line, each time it is drawn
    (at most a few times a second), so a fence marker still being typed never shows."""

    def __init__(self) -> None:
        self.text = ""

    def visible(self) -> str:
        text = self.text
        cut = text.rfind("<<")  # a fence marker still being streamed is not shown
        text = text[:cut] if cut >= 0 and ">>" not in text[cut:] else text
        # nor is JSON half received: it would read as a wall until it closes and renders as a list
        start = re.search(r"(?:^|: )([\[{])[^\n]*$", text)
        if start is not None and not _closed_json(text[start.start(1) :]):
            return text[: start.start(1)] + "…"
        return text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield markdown(readable_text(self.visible()))


def _closed_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class _AnswerStream:
    """Tokens as they come: a live Markdown view on a terminal, printed whole when the answer ends."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.answer = _Answer()
        self.live: Live | None = None

    def add(self, text: str) -> None:
        self.answer.text += text
        if self.live is None and self.console.is_terminal:
            self.live = Live(
                self.answer,
                console=self.console,
                transient=True,
                refresh_per_second=8,
                vertical_overflow="crop",
            )
            self.live.start()

    def end(self, *, show: bool = True) -> bool:
        """Print the answer (if any) for good, unless `show` is False (the final event's rendering replaces
        it); True when there was one."""
        if self.live is not None:
            self.live.stop()
            self.live = None
        spoke = bool(self.answer.text.strip())
        if spoke and show:
            self.console.print(markdown(readable_text(self.answer.text)))
        self.answer = _Answer()
        return spoke


@contextmanager
def stop_on_ctrl_c(console: Console, runtime: Runtime, thread_id: str, by: str) -> Iterator[None]:
    """While a run streams: the first Ctrl-C stops it after its current step (`Runtime.cancel`: no further
    tool call, the thread rests), a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = False

    def on_sigint(signum: int, frame: object) -> None:
        nonlocal pressed
        if not pressed and runtime.cancel(thread_id, by=by):
            pressed = True
            console.print(
                Text("stopping after the current step… (Ctrl-C again to stop at once)", style="yellow")
            )
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>])")


def _plain(line: str) -> str:
    """A Markdown line as plain text for one terminal line: no bold marks, no list bullet, no escapes."""
    line = line.replace("**", "").strip()
    line = line[2:] if line.startswith(("- ", "* ")) else line
    return _MD_ESCAPE.sub(r"\1", line)


def _result_line(event: ToolResultEvent) -> RenderableType:
    """One line for a result the answer will carry: its first line, or the first field of a JSON result."""
    text = unfence(event.content).strip()
    failed = text.startswith(_FAILED)
    lines = [line for line in text.splitlines() if line.strip()] or [""]
    if text.startswith(("{", "[")):
        lines = [_plain(ln) for ln in event.markdown.splitlines() if ln.strip()] or [""]
        failed = failed or lines[0].startswith(_FAILED)
    first = lines[0]
    more = f"  (+{len(lines) - 1} lines)" if len(lines) > 1 and not failed else ""
    first = first if len(first) <= 160 else first[:159] + "…"
    return Text(f"  ↳ {first}{more}", style="red" if failed else "dim")


def render_events(console: Console, events: Iterable[Event]) -> InterruptEvent | FinalEvent | None:
    """Print a run as it happens; return its last interrupt or final event. Tool results with an
    artifact are shown as their rendering; others as one line (the answer carries them)."""
    stream = _AnswerStream(console)
    last: InterruptEvent | FinalEvent | None = None
    try:
        for event in events:
            if isinstance(event, TokenEvent):
                stream.add(event.text)
                continue
            # the final event's rendering replaces the streamed answer: it leaves out the results shown
            stream.end(show=not isinstance(event, FinalEvent))
            if isinstance(event, RouteEvent):
                console.print(Text(f"→ {' then '.join(event.agents)}", style="dim"))
            elif isinstance(event, ToolCallEvent):
                call = Text(f"{event.agent} · {call_text(event.tool, event.args)}", style="dim")
                console.print(Padding(call, (0, 0, 0, 2)))  # a long call wraps under itself
            elif isinstance(event, ToolResultEvent):
                if event.artifact is not None and event.markdown.strip():
                    console.print(Padding(markdown(event.markdown), (0, 0, 0, 4)))
                else:
                    console.print(_result_line(event))
            elif isinstance(event, CancelledEvent):
                by = f" by {event.by}" if event.by else ""
                console.print(Text(f"stopped{by}: the thread keeps what was done before", style="yellow"))
            elif isinstance(event, InterruptEvent | FinalEvent):
                last = event
                if isinstance(event, FinalEvent) and event.markdown.strip():
                    console.print(markdown(event.markdown))
                if isinstance(event, FinalEvent) and event.status == "error":
                    for line in (event.error or "a tool call failed").splitlines():
                        console.print(Text(f"✗ {line}", style="bold red"))
    finally:
        stream.end()
    return last


# the approval screen -------------------------------------------------------------------------------


def _diff(text: str) -> Text:
    """A unified diff, coloured line by line; long lines wrap inside the panel."""
    out = Text()
    for line in text.rstrip("\n").split("\n"):
        style = (
            "bold"
            if line.startswith(("+++", "---"))
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        out.append(line + "\n", style=style)
    out.rstrip()
    return out


def _is_diff(key: str, value: object) -> bool:
    return isinstance(value, str) and (
        "diff" in key or value.startswith(("--- ", "@@ ")) or "\n+" in value or "\n-" in value
    )


def _records(value: object) -> bool:
    """A list of flat records (the precondition's objects): shown as a table."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(row, dict) and not any(isinstance(v, dict | list) for v in row.values())
            for row in value
        )
    )


def _records_table(rows: list[dict[str, Any]]) -> Table:
    """Flat records as a table right under its heading (Markdown's would add blank lines around it)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold dim")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if row.get(c) is None else str(row.get(c))) for c in columns))
    return table


def approval_screen(request: ApprovalRequest, where: Where | None = None) -> Panel:
    """Everything the person deciding needs, nothing cut: the call, its target, the cluster, who asked,
    the dry run and every part of the preview (diffs in full, coloured)."""
    preview = dict(request.preview)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    if "summary" in preview:
        facts.add_row("change", Text(str(preview.pop("summary"))))
    facts.add_row("run", Text.assemble(request.tool, (f"  ({request.agent} agent)", "dim")))
    args = request.args
    if "name" in args or "workload" in args:
        target = str(args.get("name") or args.get("workload"))
        facts.add_row("target", f"{args['namespace']}/{target}" if args.get("namespace") else target)
    facts.add_row("arguments", Text(call_text(request.tool, args).removeprefix(request.tool)))
    if where is not None:
        facts.add_row("cluster", Text(where.cluster))
        facts.add_row("asked by", Text(where.user))
    if "dry_run" in preview:
        value = str(preview.pop("dry_run"))
        ok = "accepted" in value
        facts.add_row("dry run", Text(("✓ " if ok else "") + value, style="green" if ok else "yellow"))
    if "error" in preview:
        facts.add_row("dry run", Text(f"✗ failed: {preview.pop('error')}", style="bold red"))
    parts: list[RenderableType] = [facts]
    if request.reason:  # asked again: the arguments were edited, or the target changed since
        parts.insert(0, Text(f"asked again: {request.reason}\n", style="bold yellow"))
    for key, value in preview.items():
        while (
            isinstance(value, dict)
            and len(value) == 1
            and isinstance(next(iter(value.values())), dict | list)
        ):
            inner, value = next(
                iter(value.items())
            )  # {"objects": [...]}: one heading, "precondition · objects"
            key = f"{key} · {inner}"
        label = Text("\n" + key.replace("_", " "), style="bold")
        if _is_diff(key, value):
            parts += [label, _diff(str(value)) if str(value).strip() else Text("(no change)", style="dim")]
        elif isinstance(value, str):
            parts += [Text.assemble(label, ": ", value)]
        elif _records(value):
            parts += [label, _records_table(value)]
        else:
            parts += [label, markdown(json_markdown(value))]
    if not request.preview:
        parts.append(Text("\nthe tool gives no preview of this change", style="yellow"))
    return Panel(
        Group(*parts),
        title="[bold]approval needed[/bold]",
        title_align="left",
        border_style="yellow",
        padding=(0, 1),
    )


class _LessPager(Pager):
    """The user's $PAGER (else `less`), told to keep colours."""

    def show(self, content: str) -> None:
        pager = os.environ.get("PAGER") or "less"
        env = {**os.environ, "LESS": os.environ.get("LESS", "-R")}
        try:
            subprocess.run(pager, shell=True, input=content, text=True, env=env, check=False)
        except OSError:
            sys.stdout.write(content)


def render_approval(console: Console, request: ApprovalRequest, where: Where | None = None) -> None:
    """The approval screen; on a terminal too small for it, paged first, then summed up in one line."""
    screen = approval_screen(request, where)
    height = len(console.render_lines(screen, console.options, pad=False))
    if console.is_terminal and height > console.size.height - 3:
        with console.pager(pager=_LessPager(), styles=True):
            console.print(screen)
        console.print(
            Text.assemble(
                ("approval needed: ", "bold yellow"),
                call_text(request.tool, request.args),
                (f"  ({height} lines shown in the pager; v shows them again)", "dim"),
            )
        )
    else:
        console.print(screen)


def _edited_args(console: Console, request: ApprovalRequest) -> dict[str, Any]:
    """New arguments for the call, as a JSON object; the proposed ones are the starting point."""
    while True:
        raw = _line(console, "new arguments (JSON): ", default=json.dumps(request.args))
        try:
            args: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            console.print(f"[red]not JSON: {exc}[/red]")
            continue
        if isinstance(args, dict):
            return args
        console.print("[red]the arguments must be a JSON object[/red]")


def _line(console: Console, message: str, default: str = "") -> str:
    """One line from the person: prompt_toolkit's editor on a terminal, else a plain prompt."""
    if sys.stdin.isatty() and console.is_terminal:
        from prompt_toolkit import prompt

        return prompt(message, default=default)
    return Prompt.ask(message.rstrip(": "), default=default, console=console)


def ask_decision(console: Console, request: ApprovalRequest, where: Where | None = None) -> ApprovalDecision:
    """Show the approval screen, then approve / reject / edit (new arguments; the gate previews the edited
    call again before it runs) or view the screen again."""
    render_approval(console, request, where)
    while True:
        choice = _line(console, "approve, reject, edit or view again? [a/r/e/v] ").strip().lower()[:1] or "?"
        if choice == "a":
            return ApprovalDecision(decision="approve")
        if choice == "r":
            return ApprovalDecision(decision="reject", comment=_line(console, "why (optional): ") or None)
        if choice == "e":
            return ApprovalDecision(decision="edit", args=_edited_args(console, request))
        if choice == "v":
            render_approval(console, request, where)
            continue
        console.print(
            "[yellow]a approves, r rejects, e edits the arguments, v shows the change again[/yellow]"
        )


def answer_approvals(
    console: Console,
    runtime: Runtime,
    thread_id: str,
    *,
    auto_approve: bool,
    interactive: bool,
    fallback: Callable[[ApprovalRequest], ApprovalDecision | None],
    show: Callable[[Iterator[Event]], object],
    where: Where | None = None,
) -> None:
    """Answer the thread's approvals until it runs to an end: `--yes`, the terminal prompt, or `fallback`
    (which returns None to leave the thread waiting)."""
    while (request := runtime.pending(thread_id)) is not None:
        if auto_approve:
            decision: ApprovalDecision | None = ApprovalDecision(decision="approve", comment="--yes")
        elif interactive and sys.stdin.isatty():
            decision = ask_decision(console, request, where)
        else:
            decision = fallback(request)
        if decision is None:
            return
        show(runtime.stream_resume(thread_id, decision))
