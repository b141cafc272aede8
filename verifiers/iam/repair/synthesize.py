"""Verified synthesis: a policy from a request spec alone (no model), or from an intent with a model (CEGIS).

Without a model the answer is the least permissive policy the repairer can build from an empty policy:
minimal Allow statements for the must-allow requests, conditions only where a must-deny request needs
them, proven to allow nothing but the must-allow requests' actions on their resources. With a model, the
model writes the policy from the intent; wildcard actions are expanded from the catalog (least privilege)
unless the intent asks for them, and each candidate is checked against the spec, with counterexamples fed
back for a limited number of rounds. The answer always says what was proven and what was not.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from policies.catalog import load_catalog
from policies.model import Policy
from policies.parse import PolicyParseError, parse_policy
from verifiers.iam.exclusive import exclusive
from verifiers.iam.lint import lint
from verifiers.iam.repair.conflicts import find_conflicts
from verifiers.iam.repair.model import ModelRound, Proposer, propose_and_check
from verifiers.iam.repair.repair import RepairOptions, repair
from verifiers.iam.repair.spec import Spec

__all__ = ["SynthesisResult", "expand_wildcards", "synthesize", "synthesize_allow_list"]

_WILDCARD_INTENT = re.compile(r"\*|\b(all|any|every|full|admin|administrator)\b", re.IGNORECASE)
_MAX_EXPANSION = 60


class SynthesisResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["synthesized", "unsatisfiable", "failed"]
    policy: Policy | None = None
    proven: bool = False
    unmet: tuple[str, ...] = ()
    proofs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    source: Literal["spec", "model", "allow-list", "none"] = "none"
    model_rounds: tuple[ModelRound, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "policy": self.policy.to_json() if self.policy else None,
            "proven": self.proven,
            "unmet": list(self.unmet),
            "proofs": list(self.proofs),
            "warnings": list(self.warnings),
            "source": self.source,
            "model_rounds": [r.to_json() for r in self.model_rounds],
        }


def expand_wildcards(policy: Policy, allow_wildcards: bool) -> tuple[Policy, list[str]]:
    """Least privilege: wildcard actions become the catalog actions they match; problems for the model."""
    catalog = load_catalog()
    problems: list[str] = []
    statements = []
    for st in policy.statements:
        if st.effect != "Allow" or st.action is None or allow_wildcards:
            statements.append(st)
            continue
        actions: list[str] = []
        for pattern in st.action:
            if "*" not in pattern and "?" not in pattern:
                if catalog.action_info(pattern) is None:
                    problems.append(f"{st.label}: unknown action {pattern!r} (not in the AWS catalog)")
                actions.append(pattern)
                continue
            expanded = catalog.expand(pattern)
            if pattern.strip() == "*" or len(expanded) > _MAX_EXPANSION:
                problems.append(
                    f"{st.label}: {pattern!r} grants {len(expanded)} actions; name the actions the intent needs"
                )
                actions.append(pattern)
            else:
                actions += expanded
        statements.append(st.model_copy(update={"action": tuple(dict.fromkeys(actions))}))
    if st_not := [
        s
        for s in policy.statements
        if s.effect == "Allow" and s.not_action is not None and not allow_wildcards
    ]:
        problems += [
            f"{s.label}: Allow with NotAction grants nearly everything; list the actions instead"
            for s in st_not
        ]
    return policy.model_copy(update={"statements": tuple(statements)}), problems


def _from_spec(spec: Spec) -> SynthesisResult:
    if not spec.must_allow:
        empty = Policy(version="2012-10-17")
        return SynthesisResult(
            status="synthesized",
            policy=empty,
            proven=True,
            source="spec",
            proofs=("no request must be allowed: the empty policy denies everything",),
        )
    result = repair(
        Policy(version="2012-10-17"), spec, RepairOptions(max_edits=max(12, len(spec.must_allow)))
    )
    if result.status != "repaired" or result.policy is None:
        return SynthesisResult(
            status="failed",
            unmet=(result.explanation or "no policy found",),
            source="spec",
            warnings=result.warnings,
        )
    return SynthesisResult(
        status="synthesized",
        policy=result.policy,
        proven=True,
        proofs=(
            *result.proofs,
            "least permissive: allows only the must-allow requests' actions on their resources",
        ),
        warnings=result.warnings,
        source="spec",
    )


@exclusive
def synthesize(
    intent: str | None,
    spec: Spec | None = None,
    *,
    proposer: Proposer | None = None,
    rounds: int = 4,
) -> SynthesisResult:
    """A policy for `intent` (needs a model) or for `spec` alone; `proven` only when the engine proved it."""
    spec = spec or Spec()
    warnings = tuple(spec.unknown_actions())
    conflicts = find_conflicts(spec)
    if conflicts:
        return SynthesisResult(status="unsatisfiable", unmet=tuple(conflicts), warnings=warnings)
    if proposer is None or not intent:
        if not spec.requests:
            return SynthesisResult(
                status="failed", unmet=("give a request spec, or configure a model to write from an intent",)
            )
        return _from_spec(spec).model_copy(update={"warnings": warnings})
    allow_wildcards = bool(_WILDCARD_INTENT.search(intent))
    policy, check, transcript = propose_and_check(
        f"Write an AWS IAM identity policy for this intent: {intent}",
        spec,
        proposer,
        rounds=rounds,
        prepare=lambda p: expand_wildcards(p, allow_wildcards),
    )
    if policy is None or check is None:
        last = transcript[-1].counterexamples if transcript else ()
        return SynthesisResult(
            status="failed",
            unmet=tuple(last),
            warnings=warnings,
            source="model",
            model_rounds=tuple(transcript),
        )
    unmet: tuple[str, ...] = ()
    proofs = [f"{check.satisfied} of {check.total} spec obligations satisfied (concrete evaluator and Z3)"]
    if not spec.requests and spec.reference is None and not spec.properties:
        unmet = (
            "no spec given: the policy was checked for well-formedness and catalog actions only; its match with the intent is not proven",
        )
    return SynthesisResult(
        status="synthesized",
        policy=policy,
        proven=not unmet,
        unmet=unmet,
        proofs=tuple(proofs),
        warnings=warnings,
        source="model",
        model_rounds=tuple(transcript),
    )


_ARN = re.compile(r"^arn:[^:]+:[^:]*:[^:]*:[^:]*:.+$")


AllowEntry = tuple[str, str, dict[str, Any] | None]
"""(action, resource, condition): the condition an IAM Condition block (operator -> {key: values}) or None."""


def _statement(action: str, resource: str, condition: dict[str, Any] | None) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    return st


def _entry_place(i: int, pointer: str) -> str:
    """`/Statement/0/Condition/IpAddress` of a one-statement policy as `/allow/i/condition/IpAddress`."""
    parts = pointer.split("/")[3:]  # '', 'Statement', '0', element, ...
    if not parts:
        return f"/allow/{i}"
    return "/".join([f"/allow/{i}", parts[0].lower(), *parts[1:]])


@exclusive
def synthesize_allow_list(entries: list[AllowEntry]) -> SynthesisResult:
    """A policy allowing each (action, resource, condition) entry and nothing else, proven with Z3. A `*` or
    `?` in a resource is a pattern: every matching resource is allowed (`arn:aws:s3:::logs/*`: every object
    of the bucket), as the entry asks; a condition (an IAM Condition block, e.g. `{"IpAddress":
    {"aws:SourceIp": "203.0.113.0/24"}}`) limits the entry to the requests that meet it. Raises ValueError
    naming the entry (`/allow/i/...`) for an action, resource or condition that is not one, or that the
    linter finds in error (an ARN without the region its service's ARNs have, a condition value that never
    matches); its warnings are the result's."""
    from verifiers.iam import compare

    if not entries:
        raise ValueError("/allow: list at least one {action, resource} the policy must allow")
    catalog = load_catalog()
    warnings: list[str] = []
    groups: dict[tuple[str, str], list[str]] = {}
    conditions: dict[str, dict[str, Any] | None] = {}
    for i, (action, resource, condition) in enumerate(entries):
        service, _, name = action.partition(":")
        if not service or not name or any(c.isspace() for c in action):
            raise ValueError(
                f"/allow/{i}/action: {action!r} is not an action (service:Action, e.g. s3:GetObject)"
            )
        if catalog.action_info(action) is None and "*" not in action and "?" not in action:
            raise ValueError(f"/allow/{i}/action: unknown action {action!r} (not in the AWS catalog)")
        if resource != "*" and not _ARN.match(resource):
            raise ValueError(
                f"/allow/{i}/resource: {resource!r} is not an ARN (arn:partition:service:region:account:resource)"
            )
        if "*" in action or "?" in action:
            warnings.append(f"/allow/{i}/action: {action!r} is a pattern: every matching action is allowed")
        try:
            one = parse_policy(
                {"Version": "2012-10-17", "Statement": [_statement(action, resource, condition)]}
            )
        except PolicyParseError as exc:
            raise ValueError(f"{_entry_place(i, exc.pointer)}: {exc.reason}") from None
        for finding in lint(one):
            # a policy that never matches (an ARN without its region, a malformed IP) is no answer: the entry
            # is sent back
            where = _entry_place(i, finding.pointer)
            if finding.severity == "error":
                raise ValueError(f"{where}: {finding.message}")
            warnings.append(f"{where}: {finding.message}")
        key = json.dumps(condition or None, sort_keys=True)
        conditions[key] = condition or None
        actions = groups.setdefault((resource, key), [])
        if action not in actions:
            actions.append(action)
    version = "2012-10-17"
    statements = [
        _statement(acts[0] if len(acts) == 1 else sorted(acts), res, conditions[key])  # type: ignore[arg-type]
        for (res, key), acts in groups.items()
    ]
    policy = parse_policy({"Version": version, "Statement": statements})
    unmet: list[str] = []
    for i, (action, resource, condition) in enumerate(entries):
        one = parse_policy({"Version": version, "Statement": [_statement(action, resource, condition)]})
        relation = str(compare(policy, one).relation)
        if relation not in ("equivalent", "more_permissive"):
            unmet.append(f"/allow/{i}: not every request it names is proven allowed (Z3: {relation})")
    union = parse_policy({"Version": version, "Statement": [_statement(a, r, c) for a, r, c in entries]})
    relation = str(compare(policy, union).relation)
    if relation != "equivalent":
        unmet.append(f"the policy is not proven to allow exactly the entries (Z3: {relation})")
    conditional = sum(1 for *_, c in entries if c)
    return SynthesisResult(
        status="synthesized" if not unmet else "failed",
        policy=policy,
        proven=not unmet,
        unmet=tuple(unmet),
        proofs=()
        if unmet
        else (
            (
                "allows every request the entry names"
                if len(entries) == 1
                else f"allows every request each of the {len(entries)} entries names"
            )
            + (
                (
                    ", under its condition"
                    if len(entries) == 1
                    else f" ({conditional} only under their conditions)"
                )
                if conditional
                else ""
            )
            + " (Z3)",
            "allows nothing beyond them (Z3: equivalent to the entries, one statement each)",
        ),
        warnings=tuple(warnings),
        source="allow-list",
    )
