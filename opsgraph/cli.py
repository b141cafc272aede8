"""The `opsgraph` command line. Exit codes: 0 success, 1 error (one line, no traceback unless --debug), 2 usage."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import typer

from opsgraph import __version__, cli_cost, cli_eval, cli_iam, cli_model, cli_sandbox, cli_serve, cli_threads

if TYPE_CHECKING:
    from agents.events import Event
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


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")) -> None:
    """Global options."""


def _assistant() -> Assistant:
    from opsgraph.sdk import Assistant

    return Assistant()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"opsgraph {__version__}")


@app.command()
def ask(
    text: str = typer.Argument(..., help="The request, e.g. 'list pods in payments'."),
    thread: str | None = typer.Option(None, "--thread", "-t", help="Continue this thread."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every change without asking."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Ask once and print the answer. Changes wait for approval (prompted, or --yes)."""
    from rich.console import Console

    from agents.gate import ApprovalRequest
    from opsgraph.render import answer_approvals, render_approval, render_events

    console = Console(stderr=as_json, soft_wrap=True)
    with _assistant() as assistant:
        runtime = assistant.runtime
        thread_id = thread or uuid.uuid4().hex

        def show(events: Iterable[Event]) -> None:
            if as_json:
                for _ in events:
                    pass
            else:
                render_events(console, events)

        show(runtime.stream(text, thread_id=thread_id))

        def leave_waiting(request: ApprovalRequest) -> None:
            if not as_json:
                render_approval(console, request)
                console.print(f"waiting for approval: opsgraph approve {thread_id} [--reject]")

        answer_approvals(
            console,
            runtime,
            thread_id,
            auto_approve=yes,
            interactive=not as_json,
            fallback=leave_waiting,
            show=show,
        )
        if as_json:
            typer.echo(json.dumps(runtime.result(thread_id).model_dump(mode="json"), indent=2))


@app.command()
def approve(
    thread_id: str = typer.Argument(..., help="The thread waiting for approval."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of approving."),
    edit: str | None = typer.Option(None, "--edit", help="Approve with these arguments (a JSON object)."),
    comment: str | None = typer.Option(None, "--comment", help="Why (kept in the audit log)."),
) -> None:
    """Answer the approval a thread is waiting on, and let it run on."""
    from rich.console import Console

    from agents.gate import ApprovalDecision
    from opsgraph.render import render_events

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
    with _assistant() as assistant:
        render_events(Console(), assistant.runtime.stream_resume(thread_id, decision))


@app.command()
def chat(
    thread: str | None = typer.Option(None, "--thread", "-t", help="Continue this thread."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every change without asking."),
) -> None:
    """Chat in the terminal: streamed answers, approval prompts. Ctrl-D or 'exit' quits."""
    from opsgraph.repl import run_repl

    with _assistant() as assistant:
        run_repl(assistant, thread_id=thread, auto_approve=yes)


def main() -> None:
    """Entry point: turn unexpected exceptions into a one-line error and exit code 1."""
    debug = "--debug" in sys.argv
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


def _one_line(exc: Exception) -> str:
    """A one-line message; settings errors name the variable to fix."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        return f"invalid setting {field} (OPSGRAPH_{field.upper()}): {first['msg']}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
