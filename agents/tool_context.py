"""The `ToolContext` a runtime's tools get, built from the settings.

Tools sit below `agents` and never read settings themselves: what a tool needs from the configuration (the
cluster, read-only mode, price overrides) reaches it here, through the context, so a test or an embedding
program gives a tool everything it reads by building one context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.settings import Settings
from tools.base import ToolContext

__all__ = ["tool_context_for"]


def tool_context_for(
    settings: Settings,
    *,
    kubeconfig: Path | None = None,
    workdir: Path | None = None,
    extras: dict[str, Any] | None = None,
) -> ToolContext:
    """The context of `settings`: their kubeconfig (or `kubeconfig`, e.g. the shared sandbox's), context and
    read-only mode, relative paths against `workdir` (default: the current folder), and the extra
    `cost_prices` when that setting is given; `extras` are added on top."""
    merged: dict[str, Any] = {}
    if settings.cost_prices is not None:
        merged["cost_prices"] = str(settings.cost_prices)
    merged.update(extras or {})
    return ToolContext(
        workdir=workdir or Path.cwd(),
        kubeconfig=kubeconfig or settings.resolved_kubeconfig(),
        kube_context=settings.kube_context,
        read_only=settings.read_only,
        extras=merged,
    )
