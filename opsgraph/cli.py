"""The `opsgraph` command line. Exit codes: 0 success, 1 error (one line, no traceback unless --debug), 2 usage."""

from __future__ import annotations

import json
import signal
import sys
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import typer

from opsgraph import __version__, cli_cost, cli_eval, cli_iam, cli_model, cli_sandbox, cli_serve, cli_threads

if TYPE_CHECKING:
    from agents.events import Event
    from agents.runtime import RunResult
    from opsgraph.render import Where
    from opsgraph.sdk import Assistant

__all__ = ["app", "main"]

app = typer.Typer(
    help="opsgraph: LLM agents for Kubernetes, AWS IAM and cost, with every change verified.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.add_typer(cli_threads.app, name="threads")
app.add_typer(cli_iam.app, name="iam")
app.add_typer(cli_sandbox.app, name="sandbox")
app.add_typer(cli_cost.app, name="cost")
app.add_typer(cli_eval.app, name="eval")
app.add_typer(cli_model.app, name="model")
app.command("serve")(cli_serve.serve)
app.command("slack")(cli_serve.slack)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"opsgraph {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Global options."""


def _assistant() -> Assistant:
    from opsgraph.sdk import Assistant

    return Assistant()


def _request(text: str) -> str:
    """The request, stripped; an empty one is a usage error (exit 2), not a run."""
    if not text.strip():
        raise typer.BadParameter("the request is empty", param_hint="'TEXT'")
    return text.strip()


def _thread(assistant: Assistant, thread: str | None, new_thread: str | None) -> str:
    """The thread to run in: `--thread` continues one of yours (an unknown id is an error, not a new
    thread), `--new-thread` starts one with the id you choose, neither starts a fresh one."""
    from agents.runtime import ThreadNotFoundError

    if thread is not None:
        info = assistant.runtime.store.thread(thread)
        if info is None or info.owner != assistant.user:
            raise ThreadNotFoundError(f"no thread {thread} (--new-thread {thread} starts one with that id)")
        return thread
    if new_thread is not None:
        if assistant.runtime.store.thread(new_thread) is not None:
            raise ValueError(f"thread {new_thread} already exists (--thread {new_thread} continues it)")
        return new_thread
    return uuid.uuid4().hex


def _where(assistant: Assistant) -> Where:
    from opsgraph.render import Where, describe_cluster

    ctx, settings = assistant.runtime.tool_context, assistant.settings
    return Where(cluster=describe_cluster(ctx, sandbox=settings.wants_sandbox()), user=settings.user)


def _exit_code(result: RunResult) -> int:
    """0 for an answer or a change waiting for approval, 1 when a tool or a write failed."""
    return 1 if result.status == "error" else 0


_THREAD = typer.Option(None, "--thread", "-t", help="Continue this thread (one of yours).")
_NEW_THREAD = typer.Option(None, "--new-thread", help="Start a thread with this id.")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"opsgraph {__version__}")


@app.command()
def ask(
    text: str = typer.Argument(..., help="The request, e.g. 'list pods in payments'."),
    thread: str | None = _THREAD,
    new_thread: str | None = _NEW_THREAD,
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every change without asking."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Ask once and print the answer. Changes wait for approval (prompted, or --yes).

    Exit code 0 for an answer or a change left waiting, 1 when a tool or a write failed."""
    from rich.console import Console

    from agents.gate import ApprovalRequest
    from opsgraph.render import (
        answer_approvals,
        note_model_load,
        render_approval,
        render_events,
        stop_on_ctrl_c,
    )

    request = _request(text)
    if thread is not None and new_thread is not None:
        raise typer.BadParameter("--thread and --new-thread exclude each other")
    console = Console(stderr=as_json, soft_wrap=not sys.stdout.isatty())  # piped: whole lines
    with _assistant() as assistant:
        runtime = assistant.runtime
        thread_id = _thread(assistant, thread, new_thread)
        where = _where(assistant)

        def show(events: Iterable[Event]) -> None:
            with stop_on_ctrl_c(console, runtime, thread_id, assistant.user):
                if as_json:
                    for _ in events:
                        pass
                else:
                    render_events(console, events)

        def leave_waiting(request: ApprovalRequest) -> None:
            if not as_json:
                render_approval(console, request, where)
                console.print(f"waiting for approval: opsgraph approve {thread_id} [--reject]")

        try:
            note_model_load(console, assistant.settings)
            show(runtime.stream(request, thread_id=thread_id))
            answer_approvals(
                console,
                runtime,
                thread_id,
                auto_approve=yes,
                interactive=not as_json,
                fallback=leave_waiting,
                show=show,
                where=where,
            )
        except KeyboardInterrupt:
            waiting = runtime.pending(thread_id) is not None
            hint = f": opsgraph approve {thread_id} [--reject]" if waiting else f" (thread {thread_id})"
            typer.echo(f"stopped{' with a change waiting' if waiting else ''}{hint}", err=True)
            raise typer.Exit(130) from None
        result = runtime.result(thread_id)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    if result.status == "interrupted" and result.approval is None:  # stopped with Ctrl-C
        raise typer.Exit(130)
    raise typer.Exit(_exit_code(result))


@app.command()
def approve(
    thread_id: str = typer.Argument(..., help="The thread waiting for approval."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of approving."),
    edit: str | None = typer.Option(None, "--edit", help="Approve with these arguments (a JSON object)."),
    comment: str | None = typer.Option(None, "--comment", help="Why (kept in the audit log)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Answer the approval a thread is waiting on, and let it run on.

    Exit code 0 when it ran (or stopped at the next approval), 1 when the change failed."""
    from rich.console import Console

    from agents.gate import ApprovalDecision
    from opsgraph.render import render_approval, render_events

    if reject and edit is not None:
        raise typer.BadParameter("--reject and --edit exclude each other")
    args = None
    if edit is not None:
        try:
            args = json.loads(edit)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"--edit is not JSON: {exc}") from exc
        if not isinstance(args, dict):
            raise typer.BadParameter("--edit must be a JSON object")
    kind: Literal["approve", "reject", "edit"] = (
        "reject" if reject else ("edit" if args is not None else "approve")
    )
    decision = ApprovalDecision(decision=kind, args=args, comment=comment)
    console = Console(stderr=as_json, soft_wrap=not sys.stdout.isatty())  # piped: whole lines
    with _assistant() as assistant:
        runtime = assistant.runtime
        events = runtime.stream_resume(thread_id, decision)
        if as_json:
            for _ in events:
                pass
        else:
            render_events(console, events)
        result = runtime.result(thread_id)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    elif result.approval is not None:
        render_approval(console, result.approval, _where(assistant))
        console.print(f"waiting for approval: opsgraph approve {thread_id} [--reject]")
    raise typer.Exit(_exit_code(result))


@app.command()
def chat(
    thread: str | None = _THREAD,
    new_thread: str | None = _NEW_THREAD,
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every change without asking."),
) -> None:
    """Chat in the terminal: streamed answers, approval prompts. Ctrl-C stops a request, Ctrl-D quits."""
    from opsgraph.repl import run_repl

    if thread is not None and new_thread is not None:
        raise typer.BadParameter("--thread and --new-thread exclude each other")
    with _assistant() as assistant:
        run_repl(assistant, thread_id=_thread(assistant, thread, new_thread), auto_approve=yes)


def main() -> None:
    """Entry point: turn unexpected exceptions into a one-line error and exit code 1."""
    debug = "--debug" in sys.argv
    # SIGTERM and a closed terminal end the command through SystemExit, so it stops what it started (the
    # sandbox runs in its own process group and would outlive an abrupt exit)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        typer.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(1)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _one_line(exc: Exception) -> str:
    """A one-line message; settings errors name the variable to fix."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        return f"invalid setting {field} (OPSGRAPH_{field.upper()}): {first['msg']}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
