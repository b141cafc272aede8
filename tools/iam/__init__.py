"""IAM tools for the agent: compare_policies, explain_policy, check_request, validate_policy, the custom
policy checks check_no_new_access, check_access_not_granted, check_no_public_access (read-only), and
repair_policy, write_repaired_policy (mutating), synthesize_policy, summarize_policy. Their artifacts'
Markdown is in `tools.iam.present`."""

from __future__ import annotations

from langchain_core.tools import BaseTool

from tools.base import ToolContext
from tools.iam import present as present  # registers the Markdown renderings of the IAM artifacts
from tools.iam.check_tools import build_check_tools
from tools.iam.policy_tools import build_policy_tools
from tools.iam.repair import build_repair_tools

__all__ = ["build_tools"]


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """Every IAM tool: the read-only policy tools and checks, then the repair and synthesis tools."""
    return build_policy_tools(ctx) + build_check_tools(ctx) + build_repair_tools(ctx)
