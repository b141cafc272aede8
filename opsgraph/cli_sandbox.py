"""`opsgraph sandbox ...`: The local Kubernetes API sandbox.

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="The local Kubernetes API sandbox.", no_args_is_help=True)
