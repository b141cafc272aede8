"""`opsgraph model ...`: serve a local GGUF model, list and stop the shared servers, check the configured model.

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

__all__ = ["app"]

app = typer.Typer(help="Models: serve a local GGUF file, list or stop local servers, check the model.")


@app.command()
def serve(
    path: Path = typer.Argument(..., help="The GGUF model file."),
    context_size: int | None = typer.Option(
        None, "--context-size", help="Default: OPSGRAPH_LOCAL_CONTEXT_SIZE."
    ),
    threads: int | None = typer.Option(None, "--threads", help="Default: OPSGRAPH_LOCAL_THREADS."),
    port: int | None = typer.Option(
        None, "--port", help="Default: OPSGRAPH_LOCAL_PORT (0 picks a free one)."
    ),
) -> None:
    """Serve a GGUF model on 127.0.0.1 in the foreground (until Ctrl-C); prints the OpenAI-compatible base URL."""
    from agents.models.local import LocalModelError, LocalServerSpec
    from agents.models.local_server import serve as run_server
    from opsgraph.settings import load_settings

    settings = load_settings()
    overrides = {"local_context_size": context_size, "local_threads": threads, "local_port": port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    try:
        spec = LocalServerSpec.from_settings(settings, path)
    except LocalModelError as exc:
        typer.echo(f"error: {str(exc).replace('OPSGRAPH_MODEL=local:', 'PATH ')}", err=True)
        raise typer.Exit(1) from exc
    began = time.monotonic()

    def ready(base_url: str) -> None:
        typer.echo(base_url)
        typer.echo(
            f"serving {spec.model.name} (context {spec.context_size}, {spec.threads} threads), "
            f"loaded in {time.monotonic() - began:.1f} s; Ctrl-C stops it\n"
            f"  OPSGRAPH_BASE_URL={base_url} OPSGRAPH_MODEL={spec.model.name} opsgraph chat",
            err=True,
        )

    run_server(spec, ready)


@app.command("list")
def list_servers() -> None:
    """List the local model servers opsgraph started and shares (under the data directory)."""
    from agents.models.local_shared import running
    from opsgraph.settings import load_settings

    servers = running(load_settings().data_dir)
    if not servers:
        typer.echo("no local model servers running")
    for record in servers:
        typer.echo(
            f"{record['base_url']}  {record['model']}  context {record['context_size']}, "
            f"{record['threads']} threads, pid {record['pid']}, {record['users']} user(s)"
        )


@app.command()
def stop(path: Path | None = typer.Argument(None, help="Only the servers of this GGUF file.")) -> None:
    """Stop the local model servers opsgraph started (all, or those of one model file)."""
    from agents.models.local_shared import stop as stop_servers
    from opsgraph.settings import load_settings

    stopped = stop_servers(load_settings().data_dir, path)
    typer.echo(f"stopped {len(stopped)} local model server(s)")


@app.command()
def check() -> None:
    """Send the configured model one short request: says which setting to fix when it fails."""
    from langchain_core.messages import HumanMessage

    from agents.errors import model_error
    from agents.models.factory import make_chat_model
    from opsgraph.settings import load_settings

    settings = load_settings()
    model = make_chat_model(settings)
    base = getattr(model, "openai_api_base", None)
    where = f"{settings.resolved_model()} at {base}" if base else settings.resolved_model()
    began = time.monotonic()
    try:
        reply = model.invoke([HumanMessage("Reply with the single word: ok")], max_tokens=8)
    except Exception as exc:
        typer.echo(f"error: {model_error(exc, where, agent='')}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{where}: answered in {time.monotonic() - began:.1f} s: {reply.text[:60]!r}")
