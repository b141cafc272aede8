"""IAM Access Analyzer's custom policy checks, proven with the Z3 engine.

- `check_no_new_access(new, existing)`: does `new` grant any request `existing` does not?
- `check_access_not_granted(policy, actions=..., resources=...)`: does the policy grant any of these
  actions (on any of these resources)? With only resources: any action on them.
- `check_no_public_access(policy, resource_type)`: does the resource policy grant a caller outside the
  policy's trust: anonymous, or a principal of an account the policy does not name, calling from outside
  any VPC, organization or source the policy names?

Each answer is `PASS` (proven: no such request exists), `FAIL` with a counterexample request that the
concrete evaluator confirms and the statements that grant it, or `UNKNOWN` with the reason (a solver or
time budget ran out): never a verdict it could not prove. A policy is read as a standalone document: what
its own statements grant (Principal elements included), without the account rules that combine it with
other policies.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Sequence
from typing import Literal

import z3
from pydantic import BaseModel, ConfigDict

from policies.model import Policy
from policies.request import Request
from verifiers.iam.budget import BudgetExceededError, remaining_ms, time_budget
from verifiers.iam.encode import encode_policy
from verifiers.iam.evaluate import StatementMatch, policy_decision
from verifiers.iam.exclusive import exclusive
from verifiers.iam.globs import literal_glob, matches, pattern_glob
from verifiers.iam.logic import all_of, any_of
from verifiers.iam.semantics import account_globs, action_glob
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, SolveResult, solve
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Space, slot_field
from verifiers.iam.values import parse_network

__all__ = [
    "PUBLIC_RESOURCE_TYPES",
    "CheckResult",
    "check_access_not_granted",
    "check_no_new_access",
    "check_no_public_access",
]

CheckName = Literal["no-new-access", "access-not-granted", "no-public-access"]
Outcome = Literal["PASS", "FAIL", "UNKNOWN"]

PUBLIC_RESOURCE_TYPES: dict[str, str] = {
    "AWS::S3::Bucket": "s3",
    "AWS::S3::AccessPoint": "s3",
    "AWS::S3::MultiRegionAccessPoint": "s3",
    "AWS::S3Express::DirectoryBucket": "s3express",
    "AWS::S3Tables::TableBucket": "s3tables",
    "AWS::KMS::Key": "kms",
    "AWS::Lambda::Function": "lambda",
    "AWS::Lambda::LayerVersion": "lambda",
    "AWS::SQS::Queue": "sqs",
    "AWS::SNS::Topic": "sns",
    "AWS::SecretsManager::Secret": "secretsmanager",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::DynamoDB::Stream": "dynamodb",
    "AWS::IAM::AssumeRolePolicyDocument": "sts",
    "AWS::EFS::FileSystem": "elasticfilesystem",
    "AWS::OpenSearchService::Domain": "es",
    "AWS::Kinesis::Stream": "kinesis",
    "AWS::Kinesis::StreamConsumer": "kinesis",
    "AWS::ECR::Repository": "ecr",
    "AWS::Glacier::Vault": "glacier",
    "AWS::Backup::BackupVault": "backup",
    "AWS::CodeArtifact::Domain": "codeartifact",
    "AWS::Events::EventBus": "events",
    "AWS::ApiGateway::RestApi": "execute-api",
}
"""The resource types `check_no_public_access` takes, and the service whose actions it considers."""

# Context keys that say where a caller comes from: an outsider cannot give them the values a policy
# names, so the outsider's request leaves them out (S3's definition of public, Access Analyzer's too).
_TRUST_KEYS = (
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
)
_ACCOUNT_ID = re.compile(r"\d{12}")
_OUTSIDER_IPS = ("198.51.100.77", "203.0.113.77", "192.0.2.77", "100.64.0.77")
"""Documentation addresses, one of which is outside every narrow range a policy names."""


class CheckResult(BaseModel):
    """The answer of one check."""

    model_config = ConfigDict(frozen=True)

    check: CheckName
    result: Outcome
    message: str
    """What was proven, or what breaks the rule, in one sentence."""
    counterexample: Request | None = None
    """FAIL: a request the checked policy grants that the rule forbids (confirmed concretely)."""
    statements: tuple[StatementMatch, ...] = ()
    """FAIL: the checked policy's statements that grant the counterexample."""
    reason: str = ""
    """UNKNOWN: why no answer (a time budget, an undecided pattern)."""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.result == "PASS"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"check": self.check, "result": self.result, "message": self.message}
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample.to_json()
            if self.check == "no-public-access":
                out["caller"] = self.counterexample.principal or "anonymous"
        if self.statements:
            out["statements"] = [
                {"statement": m.statement, "pointer": f"/Statement/{m.statement}", "sid": m.sid, "why": m.why}
                for m in self.statements
            ]
        if self.reason:
            out["reason"] = self.reason
        return out


def _grants(policy: Policy, request: Request) -> tuple[bool, list[StatementMatch]]:
    """Whether the policy by itself grants the request, and its Allow statements that apply."""
    allow, deny, hits = policy_decision(policy, request)
    return allow and not deny, [h for h in hits if h.effect == "Allow"]


def _granted(space: Space, policy: Policy) -> z3.BoolRef:
    """ "The policy by itself grants the request": its statements, principals included, no account rule."""
    return encode_policy(space, policy, same_account=True)


def _run(
    check: CheckName,
    policy: Policy,
    build: Callable[[], tuple[Space, z3.BoolRef]],
    accept: Callable[[Request], bool],
    passed: str,
    failed: str,
    timeout_ms: int,
) -> CheckResult:
    start = time.monotonic()
    try:
        with time_budget(timeout_ms):
            space, formula = build()
            result: SolveResult = solve(space, formula, timeout_ms=remaining_ms(timeout_ms))
    except BudgetExceededError as exc:
        result = SolveResult("unknown", reason=str(exc))
    seconds = time.monotonic() - start
    if result.status == "unsat":
        return CheckResult(check=check, result="PASS", message=passed, seconds=seconds)
    if result.status == "unknown" or result.request is None:
        return CheckResult(
            check=check,
            result="UNKNOWN",
            message="not proven either way",
            reason=result.reason or "the solver gave no answer",
            seconds=seconds,
        )
    request = result.request
    granted, statements = _grants(policy, request)
    if not granted or not accept(request):
        return CheckResult(
            check=check,
            result="UNKNOWN",
            message="not proven either way",
            reason=f"internal: the concrete evaluator does not confirm the counterexample {request.to_json()}",
            seconds=seconds,
        )
    return CheckResult(
        check=check,
        result="FAIL",
        message=failed,
        counterexample=request,
        statements=tuple(statements),
        seconds=seconds,
    )


@exclusive
def check_no_new_access(
    new: Policy, existing: Policy, *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> CheckResult:
    """PASS when `new` grants nothing `existing` does not (every request it allows, `existing` allows)."""

    def build() -> tuple[Space, z3.BoolRef]:
        space = Space().prepare([new, existing])
        return space, all_of([_granted(space, new), z3.Not(_granted(space, existing))])

    return _run(
        "no-new-access",
        new,
        build,
        lambda r: not _grants(existing, r)[0],
        "the new policy grants no access the existing one does not",
        "the new policy grants access the existing one does not",
        timeout_ms,
    )


@exclusive
def check_access_not_granted(
    policy: Policy,
    *,
    actions: Sequence[str] = (),
    resources: Sequence[str] = (),
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> CheckResult:
    """PASS when the policy grants none of `actions` (on any of `resources`, when given). Actions and
    resources may hold wildcards; with only resources, any action on them counts."""
    if not actions and not resources:
        raise ValueError("give at least one action or one resource")
    action_globs = [action_glob(a) for a in actions]
    resource_globs = [pattern_glob(r, arn=True) if r != "*" else pattern_glob("*") for r in resources]

    def build() -> tuple[Space, z3.BoolRef]:
        space = Space().prepare([policy])
        parts = [_granted(space, policy)]
        if action_globs:
            parts.append(any_of([space.atom(ACTION, g) for g in action_globs]))
        if resource_globs:
            parts.append(any_of([space.atom(RESOURCE, g) for g in resource_globs]))
        return space, all_of(parts)

    def accept(r: Request) -> bool:
        return (not action_globs or any(matches(g, r.action.lower()) for g in action_globs)) and (
            not resource_globs or any(matches(g, r.resource) for g in resource_globs)
        )

    named = ", ".join([*actions, *(f"on {r}" for r in resources)])
    return _run(
        "access-not-granted",
        policy,
        build,
        accept,
        f"the policy grants none of: {named}",
        f"the policy grants some of: {named}",
        timeout_ms,
    )


def _outsider_account(policy: Policy) -> str:
    mentioned = set(_ACCOUNT_ID.findall(policy.model_dump_json()))
    return next(a for n in range(10) if (a := f"{9999_8888_7770 + n}") not in mentioned)


def _outsider_ip(policy: Policy) -> str:
    narrow = [
        net
        for st in policy.statements
        for c in st.condition
        if c.op.family == "IpAddress"
        for v in c.values
        if (net := parse_network(v)) is not None and net.prefixlen >= (8 if net.version == 4 else 32)
    ]
    for text in _OUTSIDER_IPS:
        ip = ipaddress.ip_address(text)
        if not any(ip.version == n.version and ip in n for n in narrow):
            return text
    return _OUTSIDER_IPS[0]


def _outsider(space: Space, account: str, ip: str) -> list[z3.BoolRef]:
    """The symbolic request comes from outside: anonymous or a principal of `account`, and the keys that
    name where a caller comes from are absent (the outsider cannot give them our values)."""
    _, arn = account_globs(account)
    parts = [any_of([space.atom(PRINCIPAL, literal_glob("")), space.atom(PRINCIPAL, arn)])]
    for key in space.slots:
        present = space.present(key)
        if key in _TRUST_KEYS:
            parts.append(z3.Not(present))
        elif key == "aws:principalaccount":
            parts.append(any_of([z3.Not(present), space.atom(slot_field(key, 0), literal_glob(account))]))
        elif key == "aws:principalarn":
            parts.append(any_of([z3.Not(present), space.atom(slot_field(key, 0), arn)]))
        elif key == "aws:sourceip":
            value = int(ipaddress.ip_address(ip))
            at = all_of(
                [
                    z3.Not(space.is_list(key)),
                    space.ip_ok(key, 0),
                    z3.Not(space.ip6(key, 0)),
                    space.ip(key, 0) == value,
                ]
            )
            parts.append(any_of([z3.Not(present), at]))
    return parts


@exclusive
def check_no_public_access(
    policy: Policy, *, resource_type: str, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> CheckResult:
    """PASS when the resource policy grants nothing to an outsider (see the module's docstring), for the
    actions of the resource type's service."""
    service = PUBLIC_RESOURCE_TYPES.get(resource_type)
    if service is None:
        raise ValueError(
            f"unsupported resource type {resource_type!r}; expected one of {', '.join(PUBLIC_RESOURCE_TYPES)}"
        )
    if not any(st.principal or st.not_principal for st in policy.statements):
        raise ValueError("not a resource policy: no statement names a Principal")
    account, ip = _outsider_account(policy), _outsider_ip(policy)

    def build() -> tuple[Space, z3.BoolRef]:
        space = Space().prepare([policy])
        space.principals = True
        space.hints[PRINCIPAL] = (f"arn:aws:iam::{account}:user/outsider",)
        granted = _granted(space, policy)
        scope = space.atom(ACTION, action_glob(f"{service}:*"))
        return space, all_of([granted, scope, *_outsider(space, account, ip)])

    def accept(r: Request) -> bool:
        principal = r.principal or ""
        return principal == "" or f":{account}:" in principal

    return _run(
        "no-public-access",
        policy,
        build,
        accept,
        f"the policy grants no {resource_type} access to anyone outside the principals and sources it names",
        f"the policy grants {resource_type} access to a caller outside the principals and sources it names",
        timeout_ms,
    )
