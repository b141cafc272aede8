"""`opsgraph eval ...`: The offline eval suite.

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="The offline eval suite.", no_args_is_help=True)
