"""The SDK's typed domain calls: `assistant.iam.diff(...)`, `assistant.iam.repair(...)`, `assistant.cost.plan(...)`.

They run the same engines as the agents' tools, directly, with no model in between; `opsgraph.Client`
offers the same calls over HTTP and returns the same models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tools.base import ToolContext

if TYPE_CHECKING:  # the engines load on first use: the solvers (Z3, OR-Tools) take seconds to import
    from tools.cost.engine import CostReport
    from tools.iam.calls import PolicyInput, SpecInput
    from verifiers.iam import Comparison
    from verifiers.iam.checks import CheckResult
    from verifiers.iam.lint import Finding, PolicyKind
    from verifiers.iam.repair import RepairOptions, RepairResult

__all__ = ["CostCalls", "IamCalls"]


class IamCalls:
    """Policy comparison, checks, lint and repair, proven by the Z3 engine. Paths resolve against the
    assistant's workdir."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx

    def diff(self, policy_a: PolicyInput, policy_b: PolicyInput, *, timeout_ms: int = 10_000) -> Comparison:
        """Equivalent, less/more permissive, incomparable (or unknown), with confirmed counterexamples."""
        from tools.iam.calls import diff

        return diff(policy_a, policy_b, self._ctx, timeout_ms=timeout_ms)

    def repair(
        self, policy: PolicyInput, spec: SpecInput, options: RepairOptions | None = None
    ) -> RepairResult:
        """The fewest-edit, least permissive repair that satisfies `spec`, with its proof."""
        from tools.iam.calls import repair_policy

        return repair_policy(policy, spec, self._ctx, options)

    def lint(self, policy: PolicyInput, *, policy_type: PolicyKind | None = None) -> list[Finding]:
        """Access Analyzer-style findings: severity, code, JSON pointer, and line and column for text."""
        from tools.iam.calls import lint_policy

        return lint_policy(policy, self._ctx, policy_type=policy_type)

    def check_no_new_access(
        self, new: PolicyInput, existing: PolicyInput, *, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS, FAIL (a request `new` grants and `existing` does not, and the statements), or UNKNOWN."""
        from tools.iam.calls import no_new_access

        return no_new_access(new, existing, self._ctx, timeout_ms=timeout_ms)

    def check_access_not_granted(
        self,
        policy: PolicyInput,
        *,
        actions: Sequence[str] = (),
        resources: Sequence[str] = (),
        timeout_ms: int = 10_000,
    ) -> CheckResult:
        """PASS when none of the actions (on any of the resources) is granted; FAIL with one that is."""
        from tools.iam.calls import access_not_granted

        return access_not_granted(
            policy, self._ctx, actions=actions, resources=resources, timeout_ms=timeout_ms
        )

    def check_no_public_access(
        self, policy: PolicyInput, *, resource_type: str, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS when the resource policy grants nothing to an outsider; FAIL with the outsider's request."""
        from tools.iam.calls import no_public_access

        return no_public_access(policy, self._ctx, resource_type=resource_type, timeout_ms=timeout_ms)


class CostCalls:
    """The cost report of the assistant's cluster: right-sizing, node plan with bound and gap, savings."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx

    def plan(self, *, namespace: str | None = None, effort: float = 1.0) -> CostReport:
        from tools.cost.calls import plan

        return plan(self._ctx, namespace=namespace, effort=effort)
