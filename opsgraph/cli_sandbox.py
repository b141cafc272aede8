"""`opsgraph sandbox ...`: The local Kubernetes API sandbox.

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from opsgraph.sandbox_registry import SandboxRecord, SandboxRegistry

__all__ = ["app"]

app = typer.Typer(
    help="The local Kubernetes API sandbox: one per data directory, shared by every opsgraph process.",
    no_args_is_help=False,
    invoke_without_command=True,
)

NOT_RUNNING = 3
"""`status`'s exit code when no sandbox runs (as `systemctl status` says "not running")."""


def _registry() -> SandboxRegistry:
    from opsgraph.sandbox_registry import SandboxRegistry
    from opsgraph.settings import load_settings

    return SandboxRegistry.for_settings(load_settings())


def _known_scenario(scenario: str) -> None:
    from sandbox.scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        typer.echo(f"error: unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}", err=True)
        raise typer.Exit(1)


def _describe(record: SandboxRecord) -> str:
    return (
        f"pid {record.pid}, {record.https_url}, scenario {record.scenario}, since {record.started_at}\n"
        f"kubeconfig: {record.kubeconfig}\n  export KUBECONFIG={record.kubeconfig}   # then: kubectl get pods -A"
    )


@app.callback(invoke_without_command=True)
def start(
    ctx: typer.Context,
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 when it starts (0 picks a free one)."),
    scenario: str = typer.Option(
        "default",
        "--scenario",
        help="default (the demo shop), kagent or empty, when it starts; see `opsgraph sandbox scenarios`.",
    ),
) -> None:
    """Start the data directory's sandbox in the background, or find the one running; every opsgraph
    process (ask, chat, serve) uses the same one. `opsgraph sandbox stop` stops it."""
    if ctx.invoked_subcommand is not None:
        return
    from sandbox.process import SandboxError

    _known_scenario(scenario)
    registry = _registry()
    try:
        record, started = registry.ensure(scenario, port=port)
    except SandboxError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if started:
        typer.echo(f"sandbox started: {_describe(record)}")
        return
    typer.echo(f"sandbox already running: {_describe(record)}")
    if scenario != record.scenario or port not in (0, record.port):
        typer.echo("  (--scenario and --port apply when it starts: `opsgraph sandbox stop` first)", err=True)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print the record as JSON.")) -> None:
    """Whether the sandbox runs, and where (exit code 3 when it does not)."""
    registry = _registry()
    found = registry.status()
    if as_json:
        body = found.record.model_dump(mode="json", exclude={"token"}) if found.record else None
        typer.echo(json.dumps({"running": found.serving, "record": body}))
    elif found.serving and found.record is not None:
        typer.echo(
            f"sandbox running: {_describe(found.record)}\nstate: {found.record.state}\nlog: {registry.log}"
        )
    elif found.record is not None and found.alive:
        typer.echo(f"sandbox pid {found.record.pid} does not answer; see {registry.log}")
    elif found.record is not None:
        typer.echo(f"sandbox pid {found.record.pid} has died; the next opsgraph command starts it again")
    else:
        typer.echo("no sandbox is running")
    if not found.serving:
        raise typer.Exit(NOT_RUNNING)


@app.command()
def stop() -> None:
    """Stop the sandbox; it saves its state first, and the next start picks it up."""
    record = _registry().stop()
    if record is None:
        typer.echo("no sandbox is running")
        return
    typer.echo(f"sandbox stopped (pid {record.pid}); its state is saved in {record.state}")


@app.command()
def serve(
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    scenario: str = typer.Option("default", "--scenario", help="default, kagent or empty."),
    kubeconfig: Path = typer.Option(..., "--kubeconfig", help="Where to write the kubeconfig."),
    state: Path | None = typer.Option(
        None, "--state", help="SQLite file: loaded at start when it exists, saved after changes and on exit."
    ),
) -> None:
    """Serve a separate sandbox in this process until Ctrl-C (a container, CI, your own files); opsgraph
    itself uses the shared one."""
    from sandbox.__main__ import main as serve_sandbox

    _known_scenario(scenario)
    typer.echo(f"kubeconfig: {kubeconfig}\n  export KUBECONFIG={kubeconfig}", err=True)
    argv = ["--port", str(port), "--scenario", scenario, "--kubeconfig", str(kubeconfig)]
    if state is not None:
        argv += ["--state", str(state)]
    code = serve_sandbox(argv)
    if code:
        raise typer.Exit(code)


@app.command()
def scenarios() -> None:
    """List the scenarios a sandbox can start in."""
    from sandbox.scenarios import SCENARIOS

    for name, (description, _) in sorted(SCENARIOS.items()):
        typer.echo(f"{name}: {description}")
