"""`opsgraph iam ...`: IAM policies: validate, compare, explain, repair, synthesize (proven with Z3).

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    help="IAM policies: validate, compare, explain, repair, synthesize (proven with Z3).",
    no_args_is_help=True,
)
