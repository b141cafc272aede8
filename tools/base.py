"""What every tool declares: whether it mutates, and how to preview a change before it is made.

The approval gate (`agents.gate`) reads these declarations; tools never ask for approval themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool

__all__ = ["PreviewFn", "ToolContext", "is_mutating", "mark_mutating", "preview_call"]

PreviewFn = Callable[[dict[str, Any]], dict[str, Any]]
"""Given a call's arguments, describe what it would change (a dry-run diff, a policy diff, a cost delta)."""


@dataclass
class ToolContext:
    """What tools need from the outside world, passed down by the layer that builds the agents."""

    workdir: Path = field(default_factory=Path.cwd)
    """Relative file paths in tool arguments (policies, request suites) resolve against this."""
    kubeconfig: Path | None = None
    kube_context: str | None = None
    read_only: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.workdir / p


def mark_mutating(tool: BaseTool, preview: PreviewFn | None = None) -> BaseTool:
    """Declare that `tool` changes something; `preview` says what, before approval."""
    tool.metadata = {**(tool.metadata or {}), "mutating": True, "preview": preview}
    return tool


def is_mutating(tool: BaseTool) -> bool:
    return bool((tool.metadata or {}).get("mutating", False))


def preview_call(tool: BaseTool, args: dict[str, Any]) -> dict[str, Any]:
    """The tool's own preview of a call, or a plain description when it has none or it fails."""
    fn = (tool.metadata or {}).get("preview")
    if fn is None:
        return {"summary": f"{tool.name}({args})"}
    try:
        result: dict[str, Any] = fn(args)
    except Exception as exc:  # a preview must never hide the request itself
        return {"summary": f"{tool.name}({args})", "preview_error": f"{type(exc).__name__}: {exc}"}
    return result
