"""`opsgraph threads ...`: list threads, show a thread's steps, replay from a checkpoint, export the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Threads: list, show, continue, replay (time travel), export the audit trail.", no_args_is_help=True
)


@app.command("list")
def list_threads(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List your threads, most recent first."""
    from rich.console import Console
    from rich.table import Table

    from opsgraph.sdk import Assistant

    with Assistant(start_sandbox=False) as assistant:
        threads = assistant.threads()
    if as_json:
        typer.echo(json.dumps([t.model_dump() for t in threads], indent=2))
        return
    # the id is what people copy into --thread and `approve`: never cut or wrapped; the title gives way
    widest = max((len(t.thread_id) for t in threads), default=6)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("thread", no_wrap=True, min_width=widest)
    table.add_column("status", no_wrap=True, min_width=11)
    table.add_column("updated (UTC)", no_wrap=True, min_width=16)
    table.add_column("title", no_wrap=True, overflow="ellipsis", ratio=1, min_width=8)
    for t in threads:
        table.add_row(t.thread_id, t.status, t.updated_at[:16].replace("T", " "), t.title)
    Console(highlight=False).print(table)


@app.command()
def show(thread_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a thread's messages, tool calls with their audit rows, and its checkpoints."""
    from rich.console import Console

    from opsgraph.sdk import Assistant

    with Assistant(start_sandbox=False) as assistant:
        messages = assistant.runtime.messages(thread_id)
        audit = assistant.audit(thread_id)
        history = assistant.history(thread_id)
        pending = assistant.runtime.pending(thread_id)
        info = assistant.runtime.store.thread(thread_id)
    if as_json:
        doc = {
            "thread_id": thread_id,
            "messages": [{"type": m.type, "name": m.name, "content": m.text} for m in messages],
            "audit": [a.model_dump() for a in audit],
            "checkpoints": [c.model_dump() for c in history],
            "pending": pending.model_dump() if pending else None,
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    console = Console(highlight=False)
    for m in messages:
        console.print(f"[bold]{m.type}[/bold] {m.name or ''}: {m.text}", markup=True)
    console.print("\n[bold]audit[/bold]")
    for a in audit:
        console.print(
            f"  {a.at} {a.agent}.{a.tool} {json.dumps(a.args)} → {a.status} ({a.decision}, {a.duration_ms:.1f} ms)"
        )
    console.print(f"\n[bold]checkpoints[/bold] ({len(history)}; newest first)")
    for c in history[:20]:
        console.print(
            f"  {c.checkpoint_id} step {c.step} next={','.join(c.next) or '-'} messages={c.messages}"
        )
    if pending:
        console.print(
            f"\n[yellow]waiting for approval of {pending.tool}({json.dumps(pending.args)})[/yellow]"
        )
    elif info is not None and info.reason:
        console.print(f"\n[yellow]interrupted: {info.reason}: opsgraph threads continue {thread_id}[/yellow]")


@app.command("continue")
def continue_(thread_id: str) -> None:
    """Run on a thread whose run stopped unfinished (its process died), from its last checkpoint."""
    from rich.console import Console

    from opsgraph.render import render_events
    from opsgraph.sdk import Assistant

    with Assistant() as assistant:
        render_events(Console(), assistant.runtime.stream_continue(thread_id))


@app.command()
def replay(
    thread_id: str,
    checkpoint: str | None = typer.Option(
        None, "--checkpoint", "-c", help="Checkpoint id to run again from."
    ),
) -> None:
    """Without --checkpoint, list the thread's checkpoints; with it, run again from there (a fork)."""
    from opsgraph.sdk import Assistant

    with Assistant() as assistant:
        if checkpoint is None:
            for c in assistant.history(thread_id):
                typer.echo(
                    f"{c.checkpoint_id}\tstep {c.step}\tnext={','.join(c.next) or '-'}\tmessages={c.messages}"
                )
            return
        result = assistant.replay(thread_id, checkpoint)
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))


@app.command()
def export(
    thread_id: str,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write JSON Lines here instead of stdout."),
) -> None:
    """Export a thread's audit trail as JSON Lines."""
    from opsgraph.sdk import Assistant

    with Assistant(start_sandbox=False) as assistant:
        lines = [entry.model_dump_json() for entry in assistant.audit(thread_id)]
    text = "\n".join(lines) + ("\n" if lines else "")
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"wrote {len(lines)} audit entries to {out}", err=True)
