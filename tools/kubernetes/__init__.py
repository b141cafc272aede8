"""Kubernetes tools: reads, diagnoses, RBAC questions, and writes behind a server-side dry run."""

from tools.kubernetes.tools import build_tools, guard_for

__all__ = ["build_tools", "guard_for"]
