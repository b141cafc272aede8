"""Check a policy against a spec: every request with the concrete evaluator, the rest with the Z3 engine.

Requests are decided concretely (fast and exact). The reference policy and the properties are questions
about every possible request, so they go to the symbolic engine; each violation comes back with a
concrete request that shows it, and a solver `unknown` is reported as unverified, never as satisfied.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from policies.model import Policy, Principal
from policies.request import Request
from verifiers.iam.evaluate import Decision, evaluate, statement_applies
from verifiers.iam.exclusive import exclusive
from verifiers.iam.repair.prove import STRANGER_ACCOUNT, Found, allow_policy, find_request
from verifiers.iam.repair.spec import Property, Spec, SpecRequest

__all__ = [
    "Failure",
    "SpecCheck",
    "StatementCache",
    "Violation",
    "check_requests",
    "check_spec",
    "check_symbolic",
    "needed_actions",
]


class Failure(BaseModel):
    """A spec request the policy decides wrongly."""

    model_config = ConfigDict(frozen=True)

    spec_request: SpecRequest
    decision: Decision


class Violation(BaseModel):
    """A reference or property the policy breaks, with a request that shows it (when there is one)."""

    model_config = ConfigDict(frozen=True)

    what: str
    pointer: str
    request: Request | None = None

    def as_spec_request(self) -> SpecRequest | None:
        if self.request is None:
            return None
        return SpecRequest(request=self.request, expect="Deny", pointer=f"{self.pointer} (counterexample)")


class SpecCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    satisfied: int
    total: int
    failures: tuple[Failure, ...] = ()
    violations: tuple[Violation, ...] = ()
    unverified: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Every request decided as expected and every symbolic obligation proven."""
        return not self.failures and not self.violations and not self.unverified

    def to_json(self) -> dict[str, object]:
        return {
            "satisfied": self.satisfied,
            "total": self.total,
            "failing": [f.spec_request.describe() + f" (got {f.decision.decision})" for f in self.failures],
            "violations": [
                {
                    "what": v.what,
                    "pointer": v.pointer,
                    **({"request": v.request.to_json()} if v.request else {}),
                }
                for v in self.violations
            ],
            "unverified": list(self.unverified),
        }


class StatementCache:
    """Remembers whether a statement (by its JSON) matches a request, across the many candidate policies of
    one search: they share most statements, so each (statement, request) pair is evaluated once."""

    def __init__(self) -> None:
        self._applies: dict[tuple[str, bool, int], bool] = {}

    def failing(self, policy: Policy, requests: tuple[SpecRequest, ...]) -> int:
        variables = policy.supports_variables
        keyed = [(json.dumps(st.to_json(), sort_keys=True), st) for st in policy.statements]
        count = 0
        for sr in requests:
            allow = deny = False
            for key, st in keyed:
                slot = (key, variables, id(sr))
                hit = self._applies.get(slot)
                if hit is None:
                    hit = self._applies[slot] = statement_applies(st, sr.request, variables)
                if hit:
                    allow = allow or st.effect == "Allow"
                    deny = deny or st.effect == "Deny"
            count += (allow and not deny) != (sr.expect == "Allow")
        return count


def check_requests(policy: Policy, requests: tuple[SpecRequest, ...]) -> list[Failure]:
    out = []
    for sr in requests:
        decision = evaluate(policy, sr.request)
        if decision.allowed != (sr.expect == "Allow"):
            out.append(Failure(spec_request=sr, decision=decision))
    return out


def needed_actions(spec: Spec) -> list[str]:
    """The actions must-allow requests name: the whole allowance under the `least_privilege` property."""
    return sorted({r.request.action for r in spec.must_allow}, key=str.lower)


def _property_question(policy: Policy, prop: Property, spec: Spec) -> tuple[Found, bool]:
    """(solver answer, whether `sat` means violated); `no_full_admin` asks the reverse question."""
    if prop.kind == "forbid":
        assert prop.forbid is not None
        space = allow_policy(prop.forbid.actions, prop.forbid.resources)
        return find_request([policy, space]), True
    if prop.kind == "least_privilege":
        actions = needed_actions(spec)
        if not actions:
            return find_request([policy]), True
        return find_request([policy], [allow_policy(actions)]), True
    if prop.kind == "no_public_access":
        with_principal = Policy(
            version=policy.version,
            statements=tuple(
                s for s in policy.statements if s.principal or s.not_principal or s.effect == "Deny"
            ),
        )
        stranger = allow_policy(
            ["*"], ["*"], Principal(values={"AWS": (f"arn:aws:iam::{STRANGER_ACCOUNT}:user/stranger",)})
        )
        return find_request([with_principal, stranger]), True
    everything = allow_policy(["*"], ["*"])
    return find_request([everything], [policy]), False


def check_symbolic(policy: Policy, spec: Spec) -> tuple[list[Violation], list[str]]:
    violations: list[Violation] = []
    unverified: list[str] = []
    questions: list[tuple[str, str, Found, bool]] = []
    if spec.reference is not None:
        questions.append(
            (
                "no more permissive than the reference policy",
                "/reference",
                find_request([policy], [spec.reference]),
                True,
            )
        )
    for prop in spec.properties:
        found, sat_is_bad = _property_question(policy, prop, spec)
        questions.append((prop.describe(), prop.pointer, found, sat_is_bad))
    for what, pointer, found, sat_is_bad in questions:
        if found.status == "unknown":
            unverified.append(f"{pointer}: {what}: solver gave no answer ({found.reason})")
        elif sat_is_bad and found.status == "sat":
            violations.append(Violation(what=what, pointer=pointer, request=found.request))
        elif not sat_is_bad and found.status == "unsat":
            violations.append(Violation(what=what, pointer=pointer))
    return violations, unverified


@exclusive
def check_spec(policy: Policy, spec: Spec, *, symbolic: bool = True) -> SpecCheck:
    failures = check_requests(policy, spec.requests)
    violations, unverified = check_symbolic(policy, spec) if symbolic else ([], [])
    total = len(spec.requests) + (1 if spec.reference is not None else 0) + len(spec.properties)
    bad_symbolic = len({v.pointer for v in violations} | {u.split(":")[0] for u in unverified})
    checked = total if symbolic else len(spec.requests)
    return SpecCheck(
        satisfied=checked - len(failures) - bad_symbolic,
        total=checked,
        failures=tuple(failures),
        violations=tuple(violations),
        unverified=tuple(unverified),
    )
