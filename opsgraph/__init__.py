"""opsgraph: LLM agents for infrastructure, with every change verified before it is made.

Heavy modules load lazily, so `import opsgraph` and `opsgraph --help` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Answer", "Assistant", "Client", "Settings", "__version__"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from opsgraph.client import Client
    from opsgraph.sdk import Answer, Assistant
    from opsgraph.settings import Settings


def __getattr__(name: str) -> Any:
    if name in ("Assistant", "Answer"):
        from opsgraph import sdk

        return getattr(sdk, name)
    if name == "Client":
        from opsgraph.client import Client

        return Client
    if name == "Settings":
        from opsgraph.settings import Settings

        return Settings
    raise AttributeError(f"module 'opsgraph' has no attribute {name!r}")
