"""The `opsgraph` command line. Exit codes: 0 success, 1 error (one line, no traceback unless --debug), 2 usage."""

from __future__ import annotations

import sys

import typer

from opsgraph import __version__, cli_cost, cli_eval, cli_iam, cli_sandbox

__all__ = ["app", "main"]

app = typer.Typer(
    help="opsgraph: LLM agents for Kubernetes, AWS IAM and cost, with every change verified.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _name, _module in (("iam", cli_iam), ("sandbox", cli_sandbox), ("cost", cli_cost), ("eval", cli_eval)):
    if _module.app.registered_commands or _module.app.registered_groups:
        app.add_typer(_module.app, name=_name)


class _State:
    debug = False


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")) -> None:
    _State.debug = debug


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"opsgraph {__version__}")


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
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
