"""Fault localization: for each request the policy decides wrongly, which statements cause it, ranked.

- A request that must be denied but is allowed: the Allow statements that match it (a Deny cannot cause
  an allow). Ranked by how many wrongly allowed requests each explains, then by how few must-allow
  requests depend on it (those are the cheapest to change).
- A request that must be allowed but is explicitly denied: the Deny statements that match it.
- A request that must be allowed but no Allow matches: the Allow statements that come closest (match the
  most of action, resource, principal, condition), with the parts that do not match.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from policies.model import Policy, Statement
from policies.request import Request
from verifiers.iam.evaluate import statement_applies
from verifiers.iam.repair.check import Failure, check_requests
from verifiers.iam.repair.spec import Spec, SpecRequest

__all__ = ["Blame", "Fault", "FaultKind", "FaultReport", "localize", "mismatched_parts", "serving_statements"]

FaultKind = Literal["wrongly_allowed", "wrongly_denied", "not_allowed"]
_PARTS = ("action", "resource", "principal", "condition")


class Blame(BaseModel):
    model_config = ConfigDict(frozen=True)

    statement: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    role: Literal["allows", "denies", "near_miss"]
    mismatched: tuple[str, ...] = ()
    """For a near miss: the parts of the statement that do not match the request."""
    score: tuple[int, int] = (0, 0)

    def describe(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        what = {
            "allows": "allows it",
            "denies": "denies it",
            "near_miss": f"would allow it but its {', '.join(self.mismatched)} does not match",
        }[self.role]
        return f"Statement[{self.statement}]{sid} {what}"


class Fault(BaseModel):
    model_config = ConfigDict(frozen=True)

    spec_request: SpecRequest
    kind: FaultKind
    blame: tuple[Blame, ...]

    def describe(self) -> str:
        head = {
            "wrongly_allowed": "allowed, must be denied",
            "wrongly_denied": "explicitly denied, must be allowed",
            "not_allowed": "no Allow statement matches, must be allowed",
        }[self.kind]
        causes = "; ".join(b.describe() for b in self.blame) or "no statement comes close"
        return f"{self.spec_request.describe()}: {head}: {causes}"


class FaultReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    faults: tuple[Fault, ...] = ()

    def to_json(self) -> list[dict[str, object]]:
        return [
            {
                "request": f.spec_request.label,
                "kind": f.kind,
                "statements": [b.statement for b in f.blame],
                "explanation": f.describe(),
            }
            for f in self.faults
        ]

    def text(self) -> str:
        return "\n".join(f"- {f.describe()}" for f in self.faults) or "(no faults)"


def _part(statement: Statement, part: str) -> Statement:
    """The statement reduced to one part (the others made to match everything)."""
    keep: dict[str, object] = {
        "resource": None,
        "not_resource": None,
        "principal": None,
        "not_principal": None,
        "condition": (),
    }
    if part != "action":
        keep |= {"action": ("*",), "not_action": None}
    if part == "resource":
        keep |= {"resource": statement.resource, "not_resource": statement.not_resource}
    elif part == "principal":
        keep |= {"principal": statement.principal, "not_principal": statement.not_principal}
    elif part == "condition":
        keep |= {"condition": statement.condition}
    return statement.model_copy(update=keep)


def mismatched_parts(statement: Statement, request: Request, variables: bool) -> tuple[str, ...]:
    return tuple(p for p in _PARTS if not statement_applies(_part(statement, p), request, variables))


def _same_service(statement: Statement, request: Request) -> bool:
    """A near miss that names the request's service is a closer one (`ec2:Start*` for `ec2:StopInstances`)."""
    service = request.action.split(":", 1)[0].lower()
    return any(p.split(":", 1)[0].lower() == service for p in statement.action or ())


def serving_statements(policy: Policy, request: Request) -> list[Statement]:
    """The Allow statements that match a request."""
    variables = policy.supports_variables
    return [s for s in policy.statements if s.effect == "Allow" and statement_applies(s, request, variables)]


def localize(policy: Policy, spec: Spec, failures: list[Failure] | None = None) -> FaultReport:
    """Rank the statements behind each wrongly decided request of the spec."""
    failures = check_requests(policy, spec.requests) if failures is None else failures
    variables = policy.supports_variables
    wrongly_allowed = [f.spec_request for f in failures if f.spec_request.expect == "Deny"]
    failing_pointers = {f.spec_request.pointer for f in failures}
    passing_allows = [r for r in spec.must_allow if r.pointer not in failing_pointers]
    faults = []
    for failure in failures:
        sr = failure.spec_request
        request = sr.request
        matching = [s for s in policy.statements if statement_applies(s, request, variables)]
        if sr.expect == "Deny":
            blame = [
                Blame(
                    statement=s.index,
                    sid=s.sid,
                    effect=s.effect,
                    role="allows",
                    score=(
                        -sum(statement_applies(s, w.request, variables) for w in wrongly_allowed),
                        sum(statement_applies(s, a.request, variables) for a in passing_allows),
                    ),
                )
                for s in matching
                if s.effect == "Allow"
            ]
            kind: FaultKind = "wrongly_allowed"
        elif any(s.effect == "Deny" for s in matching):
            blame = [
                Blame(statement=s.index, sid=s.sid, effect="Deny", role="denies")
                for s in matching
                if s.effect == "Deny"
            ]
            kind = "wrongly_denied"
        else:
            blame = []
            for s in policy.statements:
                if s.effect != "Allow":
                    continue
                missing = mismatched_parts(s, request, variables)
                if len(missing) < len(_PARTS):
                    blame.append(
                        Blame(
                            statement=s.index,
                            sid=s.sid,
                            effect="Allow",
                            role="near_miss",
                            mismatched=missing,
                            score=(len(missing), 0 if _same_service(s, request) else 1),
                        )
                    )
            kind = "not_allowed"
        blame.sort(key=lambda b: (b.score, b.statement))
        faults.append(Fault(spec_request=sr, kind=kind, blame=tuple(blame)))
    return FaultReport(faults=tuple(faults))
