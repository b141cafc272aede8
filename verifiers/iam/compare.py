"""Compare two policies: equivalent, less or more permissive, or incomparable, with counterexamples.

The relation is the first policy's relative to the second. Each counterexample is a concrete request
(every field filled) that one policy allows and the other does not, and it is confirmed by the concrete
evaluator before it is returned. A solver `unknown` or a timeout makes the relation `unknown`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

import z3
from pydantic import BaseModel, ConfigDict

from policies.model import Policy
from policies.request import Request
from verifiers.iam.budget import BudgetExceededError, remaining_ms, time_budget
from verifiers.iam.encode import encode_policy
from verifiers.iam.evaluate import evaluate
from verifiers.iam.exclusive import exclusive
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, SolveResult, solve
from verifiers.iam.space import Space

__all__ = ["Comparison", "Counterexample", "Relation", "compare"]

Relation = Literal["equivalent", "less_permissive", "more_permissive", "incomparable", "unknown"]
Policies = Policy | Sequence[Policy]


class Counterexample(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: Request
    allowed_by: Literal["first", "second"]
    """Which policy allows the request; the other denies it."""


class Comparison(BaseModel):
    model_config = ConfigDict(frozen=True)

    relation: Relation
    counterexamples: tuple[Counterexample, ...] = ()
    reason: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "relation": self.relation,
            "counterexamples": [
                {"allowed_by": c.allowed_by, "request": c.request.to_json()} for c in self.counterexamples
            ],
            **({"reason": self.reason} if self.reason else {}),
        }


def _directions(p1: Policies, p2: Policies, timeout_ms: int) -> tuple[SolveResult, SolveResult]:
    """Is there a request p1 allows and p2 denies? And the reverse. One space, each policy encoded once;
    the two directions share what the budget leaves after encoding."""
    policies = [*(p1 if not isinstance(p1, Policy) else [p1]), *(p2 if not isinstance(p2, Policy) else [p2])]
    space = Space().prepare(policies)
    a1, a2 = encode_policy(space, p1), encode_policy(space, p2)
    forward = solve(space, z3.And(a1, z3.Not(a2)), timeout_ms=remaining_ms(timeout_ms))
    backward = solve(space, z3.And(a2, z3.Not(a1)), timeout_ms=remaining_ms(timeout_ms))
    return forward, backward


def _confirmed(result: SolveResult, yes: Policies, no: Policies) -> tuple[Request | None, str]:
    request = result.request
    if request is None:
        return None, ""
    if evaluate(yes, request).allowed and not evaluate(no, request).allowed:
        return request, ""
    return None, f"internal: the concrete evaluator does not confirm the symbolic witness {request.to_json()}"


@exclusive
def compare(p1: Policies, p2: Policies, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Comparison:
    """How permissive `p1` is relative to `p2` (a list of policies is their union, as identity policies).

    `timeout_ms` bounds the whole comparison: encoding both policies and both solver queries."""
    start = time.monotonic()
    try:
        with time_budget(timeout_ms):
            forward, backward = _directions(p1, p2, timeout_ms)
    except BudgetExceededError as exc:
        return Comparison(relation="unknown", reason=str(exc), seconds=time.monotonic() - start)
    seconds = forward.seconds + backward.seconds
    examples: list[Counterexample] = []
    reasons: list[str] = []
    for result, yes, no, who in ((forward, p1, p2, "first"), (backward, p2, p1, "second")):
        request, problem = _confirmed(result, yes, no)
        if request is not None:
            examples.append(Counterexample(request=request, allowed_by=who))  # type: ignore[arg-type]
        if problem:
            reasons.append(problem)
        if result.status == "unknown":
            reasons.append(result.reason)
    statuses = (forward.status, backward.status)
    if reasons or "unknown" in statuses:
        return Comparison(
            relation="unknown", counterexamples=tuple(examples), reason="; ".join(reasons), seconds=seconds
        )
    relations: dict[tuple[str, str], Relation] = {
        ("unsat", "unsat"): "equivalent",
        ("sat", "unsat"): "more_permissive",
        ("unsat", "sat"): "less_permissive",
        ("sat", "sat"): "incomparable",
    }
    relation = relations[statuses]
    return Comparison(relation=relation, counterexamples=tuple(examples), seconds=seconds)
