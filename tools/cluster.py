"""The cluster a `ToolContext`'s Kubernetes tools act on, in words, for the screens that ask for approval."""

from __future__ import annotations

from pathlib import Path

from tools.base import ToolContext

__all__ = ["describe_cluster"]


def describe_cluster(ctx: ToolContext, *, sandbox: bool) -> str:
    """`sandbox (local demo cluster, kubeconfig PATH)`, or `context NAME (kubeconfig PATH)`."""
    path = ctx.kubeconfig
    if sandbox:
        return f"sandbox (local demo cluster, kubeconfig {path})" if path else "sandbox (local demo cluster)"
    if path is None and not ctx.kube_context and not (Path.home() / ".kube" / "config").exists():
        return "none (no kubeconfig, and the sandbox is off)"
    context = ctx.kube_context or _current_context(path)
    where = f"kubeconfig {path}" if path else "~/.kube/config"
    return f"context {context} ({where})" if context else f"the current context of {where}"


def _current_context(path: Path | None) -> str | None:
    import yaml  # type: ignore[import-untyped]

    try:
        doc = yaml.safe_load((path or Path.home() / ".kube" / "config").read_text())
    except (OSError, yaml.YAMLError):
        return None
    context = doc.get("current-context") if isinstance(doc, dict) else None
    return str(context) if context else None
