"""Specs that no policy can satisfy, found before any search, each explained with the places that clash."""

from __future__ import annotations

from policies.request import Request
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair.prove import allow_policy
from verifiers.iam.repair.spec import Spec, request_key

__all__ = ["find_conflicts"]


def find_conflicts(spec: Spec) -> list[str]:
    """Why the spec is unsatisfiable (empty when no contradiction is visible without a policy)."""
    out: list[str] = []
    allows: dict[tuple[str, str, str, str], str] = {}
    for sr in spec.must_allow:
        allows.setdefault(request_key(sr.request), sr.pointer)
    for sr in spec.must_deny:
        other = allows.get(request_key(sr.request))
        if other is not None:
            r = sr.request
            out.append(
                f"{other} and {sr.pointer} are the same request ({r.action} on {r.resource}) but one must be allowed and the other denied"
            )
    for sr in spec.must_allow:
        probe = Request(
            action=sr.request.action,
            resource=sr.request.resource,
            principal=sr.request.principal,
            context=sr.request.context,
        )
        for prop in spec.properties:
            if (
                prop.forbid is not None
                and evaluate(allow_policy(prop.forbid.actions, prop.forbid.resources), probe).allowed
            ):
                out.append(f"{sr.pointer} must be allowed but {prop.pointer} forbids it ({prop.describe()})")
        if spec.reference is not None and not evaluate(spec.reference, probe).allowed:
            out.append(
                f"{sr.pointer} must be allowed but the reference policy denies it, and the result may not exceed the reference"
            )
    return out
