"""`opsgraph serve`: the HTTP API, web chat page and Slack bot.

Only typer is imported at module level; everything heavy loads inside the command.
"""

from __future__ import annotations

__all__: list[str] = []
