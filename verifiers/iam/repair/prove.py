"""Symbolic questions the repairer asks of the Z3 engine, built on its public encoding.

`find_request(allowed_by, denied_by)` looks for one concrete request that every policy of the first list
allows and every policy of the second denies (each policy decided on its own, which is what a union of
policies needs), and confirms the solver's witness with the concrete evaluator. A solver `unknown` stays
`unknown`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import z3

from policies.model import Policy, Principal, Statement
from policies.request import Request
from verifiers.iam.encode import encode_policy
from verifiers.iam.evaluate import evaluate
from verifiers.iam.exclusive import exclusive
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, solve
from verifiers.iam.space import Space

__all__ = ["STRANGER_ACCOUNT", "Found", "allow_policy", "find_request"]

STRANGER_ACCOUNT = "000000000000"
"""An account no real policy names: a principal from it stands for "anyone" in the public-access check."""


@dataclass(frozen=True)
class Found:
    status: Literal["sat", "unsat", "unknown"]
    request: Request | None = None
    reason: str = ""


def allow_policy(
    actions: Sequence[str], resources: Sequence[str] = ("*",), principal: Principal | None = None
) -> Policy:
    """A one-statement Allow policy (used to describe request spaces)."""
    st = Statement(effect="Allow", action=tuple(actions), resource=tuple(resources), principal=principal)
    return Policy(version="2012-10-17", statements=(st,))


@exclusive
def find_request(
    allowed_by: Sequence[Policy], denied_by: Sequence[Policy] = (), *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> Found:
    """A request allowed by every policy in `allowed_by` and by none in `denied_by`, or a proof there is none."""
    policies = [*allowed_by, *denied_by]
    space = Space().prepare(policies)
    parts = [encode_policy(space, p) for p in allowed_by] + [
        z3.Not(encode_policy(space, p)) for p in denied_by
    ]
    result = solve(space, z3.And(*parts), timeout_ms=timeout_ms)
    if result.status != "sat":
        return Found(result.status, reason=result.reason)
    request = result.request
    assert request is not None
    confirmed = all(evaluate(p, request).allowed for p in allowed_by) and not any(
        evaluate(p, request).allowed for p in denied_by
    )
    if not confirmed:
        return Found(
            "unknown", reason=f"the concrete evaluator does not confirm the witness {request.to_json()}"
        )
    return Found("sat", request)
