"""`opsgraph.settings`: the public home of `Settings`, kept for users and the CLI.

The class lives in `agents.settings`, the lowest layer that reads it (the model factory and the runtime),
so that agents, server and eval import it without reaching up to the `opsgraph` package.
"""

from __future__ import annotations

from agents.settings import Role, Settings, default_data_dir, load_settings

__all__ = ["Role", "Settings", "default_data_dir", "load_settings"]
