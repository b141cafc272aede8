"""Typed IAM calls for the SDK and the HTTP API: the same engine the agent's tools use, without a model.

Policies and specs are file paths (relative to the context's workdir), inline JSON text, or decoded JSON.
"""

from __future__ import annotations

import json
from typing import Any

from policies import Policy, parse_policy
from policies.parse import load_policy
from tools.base import ToolContext
from verifiers.iam import Comparison, compare
from verifiers.iam.repair import RepairOptions, RepairResult, Spec, load_spec, parse_spec, repair

__all__ = ["PolicyInput", "SpecInput", "diff", "load_policy_input", "load_spec_input", "repair_policy"]

PolicyInput = str | dict[str, Any] | Policy
SpecInput = str | dict[str, Any] | list[Any] | Spec


def load_policy_input(policy: PolicyInput, ctx: ToolContext) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, dict):
        return parse_policy(policy, source="<object>")
    return load_policy(policy, base_dir=ctx.workdir)


def load_spec_input(spec: SpecInput, ctx: ToolContext) -> Spec:
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict | list):
        return parse_spec(spec, source="<object>", base=ctx.workdir)
    if spec.strip().startswith(("{", "[")):
        return parse_spec(json.loads(spec), source="<inline>", base=ctx.workdir)
    return load_spec(ctx.resolve(spec))


def diff(
    policy_a: PolicyInput, policy_b: PolicyInput, ctx: ToolContext, *, timeout_ms: int = 10_000
) -> Comparison:
    """How `policy_a` relates to `policy_b` (equivalent, less/more permissive, incomparable, or unknown),
    with counterexample requests confirmed by the concrete evaluator."""
    return compare(load_policy_input(policy_a, ctx), load_policy_input(policy_b, ctx), timeout_ms=timeout_ms)


def repair_policy(
    policy: PolicyInput, spec: SpecInput, ctx: ToolContext, options: RepairOptions | None = None
) -> RepairResult:
    """The symbolic repair of `policy` against `spec`: fewest edits, least permissive first, proven."""
    return repair(load_policy_input(policy, ctx), load_spec_input(spec, ctx), options)
