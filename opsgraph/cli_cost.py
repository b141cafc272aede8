"""`opsgraph cost ...`: Cost: right-sizing, node plans with proven bounds, savings.

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Cost: right-sizing, node plans with proven bounds, savings.", no_args_is_help=True)
