"""Typed IAM calls for the SDK and the HTTP API: the same engine the agent's tools use, without a model.

Policies and specs are file paths (resolved by the context: its workdir, or only its workspace when it is
confined), inline JSON text, or decoded JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policies import Policy, parse_policy
from policies.parse import load_json, load_policy
from tools.base import ToolContext
from verifiers.iam import Comparison, compare
from verifiers.iam.checks import (
    CheckResult,
    check_access_not_granted,
    check_no_new_access,
    check_no_public_access,
)
from verifiers.iam.lint import Finding, PolicyKind, lint, lint_text
from verifiers.iam.repair import RepairOptions, RepairResult, Spec, parse_spec, repair

__all__ = [
    "PolicyInput",
    "SpecInput",
    "access_not_granted",
    "diff",
    "lint_policy",
    "load_policy_input",
    "load_spec_input",
    "no_new_access",
    "no_public_access",
    "reference_resolved",
    "repair_policy",
]

PolicyInput = str | dict[str, Any] | Policy
SpecInput = str | dict[str, Any] | list[Any] | Spec


def load_policy_input(policy: PolicyInput, ctx: ToolContext) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, dict):
        return parse_policy(policy, source="<object>")
    return load_policy(policy if policy.strip().startswith("{") else str(ctx.resolve(policy)))


def load_spec_input(spec: SpecInput, ctx: ToolContext) -> Spec:
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict | list):
        return parse_spec(reference_resolved(spec, ctx), source="<object>", base=ctx.workdir)
    if spec.strip().startswith(("{", "[")):
        return parse_spec(reference_resolved(json.loads(spec), ctx), source="<inline>", base=ctx.workdir)
    path = ctx.resolve(spec)
    doc = load_json(path.read_text(encoding="utf-8"), str(path))
    return parse_spec(reference_resolved(doc, ctx, path.parent), source=str(path), base=path.parent)


def reference_resolved(doc: Any, ctx: ToolContext, base: Path | None = None) -> Any:
    """The spec with its `reference` policy file (when it names one) resolved by the context, relative to
    `base` (the spec's folder): a confined context keeps it inside the workspace like any other path."""
    if isinstance(doc, dict) and isinstance(doc.get("reference"), str):
        return {**doc, "reference": str(ctx.resolve(doc["reference"], base=base))}
    return doc


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


def lint_policy(
    policy: PolicyInput, ctx: ToolContext, *, policy_type: PolicyKind | None = None
) -> list[Finding]:
    """Access Analyzer-style validation; JSON text (inline or a file's) gets lines and columns, and a
    policy that does not parse is one finding rather than an exception."""
    if isinstance(policy, Policy):
        return lint(policy, kind=policy_type)
    if isinstance(policy, dict):
        return lint(parse_policy(policy, source="<object>"), kind=policy_type)
    if policy.strip().startswith("{"):
        return lint_text(policy, path="<inline>", kind=policy_type)
    path = ctx.resolve(policy)
    return lint_text(path.read_text(encoding="utf-8"), path=policy, kind=policy_type)


def no_new_access(
    new: PolicyInput, existing: PolicyInput, ctx: ToolContext, *, timeout_ms: int = 10_000
) -> CheckResult:
    """PASS when `new` grants nothing `existing` does not; FAIL with a counterexample and its statements."""
    return check_no_new_access(
        load_policy_input(new, ctx), load_policy_input(existing, ctx), timeout_ms=timeout_ms
    )


def access_not_granted(
    policy: PolicyInput,
    ctx: ToolContext,
    *,
    actions: Sequence[str] = (),
    resources: Sequence[str] = (),
    timeout_ms: int = 10_000,
) -> CheckResult:
    """PASS when the policy grants none of the actions (on any of the resources, when given)."""
    return check_access_not_granted(
        load_policy_input(policy, ctx), actions=actions, resources=resources, timeout_ms=timeout_ms
    )


def no_public_access(
    policy: PolicyInput, ctx: ToolContext, *, resource_type: str, timeout_ms: int = 10_000
) -> CheckResult:
    """PASS when the resource policy grants nothing to anyone outside the principals and sources it names."""
    return check_no_public_access(
        load_policy_input(policy, ctx), resource_type=resource_type, timeout_ms=timeout_ms
    )
