"""IAM tools for the agent (read-only): compare_policies, explain_policy, check_request, validate_policy."""

from __future__ import annotations

import importlib

from langchain_core.tools import BaseTool

from tools.base import ToolContext
from tools.iam.policy_tools import build_policy_tools

__all__ = ["build_tools"]


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """Every IAM tool; `tools/iam/repair.py` (repair and synthesis, issue 4) adds its own when present."""
    tools = build_policy_tools(ctx)
    try:
        repair = importlib.import_module("tools.iam.repair")
    except ModuleNotFoundError as exc:
        if exc.name != "tools.iam.repair":
            raise
        return tools
    extra: list[BaseTool] = list(repair.build_repair_tools(ctx))
    return tools + extra
