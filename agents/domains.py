"""The domain agents: what each is for, and where its tools come from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.tools import BaseTool

from agents.models.vocabulary import AgentName
from tools.base import ToolContext

__all__ = ["DOMAINS", "Domain", "domain_tools"]


@dataclass(frozen=True)
class Domain:
    name: AgentName
    prompt: str
    tools: Callable[[ToolContext], list[BaseTool]]


def _kubernetes(ctx: ToolContext) -> list[BaseTool]:
    from tools.kubernetes import build_tools

    return build_tools(ctx)


def _iam(ctx: ToolContext) -> list[BaseTool]:
    from tools.iam import build_tools

    return build_tools(ctx)


def _cost(ctx: ToolContext) -> list[BaseTool]:
    from tools.cost import build_tools

    return build_tools(ctx)


_SHARED = (
    " Handle only the part of the user's request that belongs to your domain; other agents handle the rest."
    " Use your tools to get facts; never invent cluster state, policy semantics or prices."
    " Changes need the user's approval: call the tool and the system will ask. Answer briefly and concretely."
)

DOMAINS: dict[AgentName, Domain] = {
    "kubernetes": Domain(
        "kubernetes",
        "You are the Kubernetes operations agent: you inspect and troubleshoot workloads and make changes "
        "through the cluster API (every write is dry-run on the server first)." + _SHARED,
        _kubernetes,
    ),
    "iam": Domain(
        "iam",
        "You are the AWS IAM agent: you compare, explain, repair and write IAM policies. Every policy claim "
        "you make comes from the Z3-backed engine; a solver 'unknown' is never a proof." + _SHARED,
        _iam,
    ),
    "cost": Domain(
        "cost",
        "You are the cost optimization agent: you right-size workloads and plan nodes with a solver, stating "
        "the lower bound, the gap, the spot risk and savings that add up." + _SHARED,
        _cost,
    ),
}


def domain_tools(name: AgentName, ctx: ToolContext) -> list[BaseTool]:
    return DOMAINS[name].tools(ctx)
