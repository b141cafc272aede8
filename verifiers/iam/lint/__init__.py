"""Lint a policy as IAM Access Analyzer validates one: located findings with severities and codes.

`lint(policy)` checks a parsed policy; `lint_text(text)` also reports a policy that does not parse (as
one finding with the parser's code) and puts a line and column on every finding. The checks are in
`arns` (resource ARNs, and actions against the resource types they act on), `conditions`, and
`statements` (actions, principals, Sids, redundancy, risky grants); `codes.CODES` lists them all.
"""

from __future__ import annotations

from typing import Literal

from policies.locate import Span, locate
from policies.model import Policy
from policies.parse import PolicyParseError, parse_policy
from policies.variables import has_variables, split_pattern
from verifiers.iam.lint.arns import check_action_resources, check_resources
from verifiers.iam.lint.codes import CODES
from verifiers.iam.lint.conditions import check_conditions
from verifiers.iam.lint.findings import SEVERITIES, Context, Finding, Location, Severity
from verifiers.iam.lint.sarif import to_sarif
from verifiers.iam.lint.statements import (
    check_actions,
    check_grants,
    check_principals,
    check_redundancy,
    check_sids,
)

__all__ = [
    "CODES",
    "SEVERITIES",
    "Finding",
    "Location",
    "PolicyKind",
    "Severity",
    "lint",
    "lint_text",
    "to_sarif",
]

PolicyKind = Literal["identity", "resource", "scp"]


def _kind(policy: Policy) -> PolicyKind:
    return "resource" if any(s.principal or s.not_principal for s in policy.statements) else "identity"


def lint(
    policy: Policy,
    *,
    kind: PolicyKind | None = None,
    text: str | None = None,
    path: str | None = None,
    spans: dict[str, Span] | None = None,
) -> list[Finding]:
    """Findings for a parsed policy, in the order of the text (statement order without it).

    `kind` is the policy type (default: a resource policy when some statement names a principal, else
    an identity policy); `text` is the JSON the policy was parsed from, for lines and columns."""
    ctx = Context(
        policy, kind or _kind(policy), spans if spans is not None else locate(text) if text else {}, path
    )
    if policy.version is None:
        ctx.add(
            "warning", "MISSING_VERSION", "", 'no "Version": "2012-10-17": policy variables are literal text'
        )
    for st in policy.statements:
        base = ctx.statement_pointer(st.index)
        check_actions(ctx, st, base)
        check_resources(ctx, st, base)
        check_action_resources(ctx, st, base)
        check_conditions(ctx, st, base)
        check_principals(ctx, st, base)
        check_grants(ctx, st, base)
        texts = [*(st.resource or ()), *(st.not_resource or ()), *(v for c in st.condition for v in c.values)]
        if not policy.supports_variables and any(has_variables(split_pattern(t, True)) for t in texts):
            ctx.add(
                "error",
                "VARIABLE_UNSUPPORTED_IN_VERSION",
                base,
                'policy variables are literal text unless "Version": "2012-10-17"',
            )
    check_sids(ctx, policy)
    check_redundancy(ctx, policy)
    if ctx.spans:
        ctx.out.sort(key=lambda f: (f.location.offset if f.location else 0, SEVERITIES.index(f.severity)))
    return ctx.out


def lint_text(text: str, *, path: str | None = None, kind: PolicyKind | None = None) -> list[Finding]:
    """Parse and lint: a policy that does not parse gives one `error` finding with the parser's code."""
    spans = locate(text)
    try:
        policy = parse_policy(text, source=path)
    except PolicyParseError as exc:
        ctx = Context(Policy(), kind or "identity", spans, path)
        about_a_name = exc.code in (
            "INVALID_POLICY_ELEMENT",
            "INVALID_PRINCIPAL_KEY",
            "INVALID_CONDITION_OPERATOR",
        )
        ctx.add("error", exc.code, exc.pointer, exc.reason, key=about_a_name)
        finding = ctx.out[0]
        if exc.line is not None and exc.column is not None:
            here = Location(
                line=exc.line,
                column=exc.column,
                end_line=exc.line,
                end_column=exc.column + 1,
                offset=0,
                length=1,
            )
            finding = finding.model_copy(update={"location": here})
        return [finding]
    return lint(policy, kind=kind, path=path, spans=spans)
