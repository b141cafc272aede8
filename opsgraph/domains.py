"""The SDK's typed domain calls: `assistant.iam.diff(...)`, `assistant.iam.repair(...)`, `assistant.cost.plan(...)`.

They run the same engines as the agents' tools, directly, with no model in between; `opsgraph.Client`
offers the same calls over HTTP and returns the same models.
"""

from __future__ import annotations

from tools.base import ToolContext
from tools.cost.calls import plan
from tools.cost.engine import CostReport
from tools.iam.calls import PolicyInput, SpecInput, diff, repair_policy
from verifiers.iam import Comparison
from verifiers.iam.repair import RepairOptions, RepairResult

__all__ = ["CostCalls", "IamCalls"]


class IamCalls:
    """Policy comparison and repair, proven by the Z3 engine. Paths resolve against the assistant's workdir."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx

    def diff(self, policy_a: PolicyInput, policy_b: PolicyInput, *, timeout_ms: int = 10_000) -> Comparison:
        """Equivalent, less/more permissive, incomparable (or unknown), with confirmed counterexamples."""
        return diff(policy_a, policy_b, self._ctx, timeout_ms=timeout_ms)

    def repair(
        self, policy: PolicyInput, spec: SpecInput, options: RepairOptions | None = None
    ) -> RepairResult:
        """The fewest-edit, least permissive repair that satisfies `spec`, with its proof."""
        return repair_policy(policy, spec, self._ctx, options)


class CostCalls:
    """The cost report of the assistant's cluster: right-sizing, node plan with bound and gap, savings."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx

    def plan(self, *, namespace: str | None = None, time_limit_s: float = 20.0) -> CostReport:
        return plan(self._ctx, namespace=namespace, time_limit_s=time_limit_s)
