"""`opsgraph sandbox ...`: The local Kubernetes API sandbox.

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["app"]

app = typer.Typer(
    help="The local Kubernetes API sandbox.", no_args_is_help=False, invoke_without_command=True
)


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    scenario: str = typer.Option(
        "default",
        "--scenario",
        help="default (the demo shop), kagent or empty; see `opsgraph sandbox scenarios`.",
    ),
    kubeconfig: Path | None = typer.Option(
        None, "--kubeconfig", help="Where to write the kubeconfig (default: <data dir>/sandbox/kubeconfig)."
    ),
    state: Path | None = typer.Option(
        None, "--state", help="SQLite file: loaded at start when it exists, saved on exit."
    ),
) -> None:
    """Serve a Kubernetes API sandbox until Ctrl-C; kubectl and the official clients work against it."""
    if ctx.invoked_subcommand is not None:
        return
    from opsgraph.settings import load_settings
    from sandbox.__main__ import main as serve_sandbox
    from sandbox.scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        typer.echo(f"error: unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}", err=True)
        raise typer.Exit(1)
    path = kubeconfig or load_settings().data_dir / "sandbox" / "kubeconfig"
    typer.echo(f"kubeconfig: {path}\n  export KUBECONFIG={path}   # then: kubectl get pods -A", err=True)
    argv = ["--port", str(port), "--scenario", scenario, "--kubeconfig", str(path)]
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
