"""Human-readable output for repairs and syntheses: the policy diff, the edits, the proof, the comparison."""

from __future__ import annotations

import difflib
import json
from typing import Any

from policies.model import Policy
from verifiers.iam.repair.repair import RepairResult
from verifiers.iam.repair.synthesize import SynthesisResult

__all__ = ["policy_diff", "render_repair", "render_synthesis"]


def _lines(policy: Policy) -> list[str]:
    return json.dumps(policy.to_json(), indent=2).splitlines(keepends=True)


def policy_diff(
    before: Policy, after: Policy, *, before_name: str = "original", after_name: str = "repaired"
) -> str:
    """A unified diff of the two policies' JSON (empty when they are the same)."""
    return "".join(difflib.unified_diff(_lines(before), _lines(after), before_name, after_name))


def _request_text(doc: dict[str, Any]) -> str:
    extra = ""
    if doc.get("principal"):
        extra += f" by {doc['principal']}"
    if doc.get("context"):
        extra += f" with {json.dumps(doc['context'], sort_keys=True)}"
    return f"{doc['action']} on {doc['resource']}{extra}"


def render_repair(result: RepairResult) -> str:
    lines = [f"status: {result.status} ({result.seconds:.2f} s)"]
    if result.explanation:
        lines.append(f"why: {result.explanation}")
    lines += [f"warning: {w}" for w in result.warnings]
    if result.faults.faults:
        lines.append("faults:")
        lines += [f"  - {f.describe()}" for f in result.faults.faults]
    if result.edits:
        lines.append(f"edits ({len(result.edits)}, {result.source}):")
        lines += [f"  {i}. {e.description}" for i, e in enumerate(result.edits, 1)]
    if result.policy is not None and result.status == "repaired":
        lines.append("policy diff:")
        lines.append(policy_diff(result.original, result.policy).rstrip("\n"))
    if result.comparison is not None:
        lines.append(f"original vs repaired: {result.comparison.relation}")
        for c in result.comparison.counterexamples:
            who = "only the original" if c.allowed_by == "first" else "only the repaired policy"
            lines.append(f"  allowed by {who}: {_request_text(c.request.to_json())}")
    if result.spec_check is not None:
        lines.append(f"spec check: {result.spec_check.satisfied}/{result.spec_check.total} satisfied")
    if result.proofs:
        lines.append("proven:")
        lines += [f"  - {p}" for p in result.proofs]
    return "\n".join(lines)


def render_synthesis(result: SynthesisResult) -> str:
    lines = [f"status: {result.status}; proven: {'yes' if result.proven else 'no'} (source: {result.source})"]
    lines += [f"warning: {w}" for w in result.warnings]
    lines += [f"unmet: {u}" for u in result.unmet]
    lines += [f"proven: {p}" for p in result.proofs]
    for r in result.model_rounds:
        lines.append(
            f"model round {r.round}: {r.verdict}"
            + (f" ({len(r.counterexamples)} counterexamples)" if r.counterexamples else "")
        )
    if result.policy is not None:
        lines.append(json.dumps(result.policy.to_json(), indent=2))
    return "\n".join(lines)
