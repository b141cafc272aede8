"""The typed domain calls of `Client` and `AsyncClient`: `client.iam.diff(...)`, `client.cost.plan(...)`.

Each call is described once (a `Request`: the path, the body, and the model its answer decodes to), and sent by
the synchronous or the asynchronous client. Policies and specs go over the wire as JSON, read here from local
files when given as paths, never as paths the server would read; the answers are the same models
`Assistant.iam` and `Assistant.cost` return in-process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar

if TYPE_CHECKING:
    from policies import Policy
    from tools.cost.engine import CostReport
    from verifiers.iam import Comparison
    from verifiers.iam.checks import CheckResult
    from verifiers.iam.lint import Finding
    from verifiers.iam.repair import RepairResult

__all__ = [
    "AsyncCostCalls",
    "AsyncIamCalls",
    "AsyncSend",
    "CostCalls",
    "IamCalls",
    "PolicyArg",
    "Request",
    "Send",
    "SpecArg",
]

PolicyArg: TypeAlias = "Mapping[str, Any] | Policy | str | os.PathLike[str]"
"""A policy: a decoded JSON object, a `policies.Policy`, inline JSON text, or a local file path."""
SpecArg: TypeAlias = "Mapping[str, Any] | list[Any] | str | os.PathLike[str]"
"""A repair spec: a decoded JSON object or list, inline JSON text, or a local file path."""


def _read_local_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def _document(value: Any, what: str, openers: tuple[str, ...]) -> tuple[Any, Path]:
    """What to send for `value`, and the folder relative paths inside it resolve against."""
    from policies import Policy

    if isinstance(value, Policy):
        return value.to_json(), Path.cwd()
    if isinstance(value, Mapping):
        return dict(value), Path.cwd()
    if isinstance(value, list) and "[" in openers:
        return value, Path.cwd()
    if isinstance(value, str) and value.lstrip().startswith(openers):
        return (
            value,
            Path.cwd(),
        )  # inline JSON text: the server parses it and names the JSON pointer on errors
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"{what}: expected a JSON object, JSON text or a file path, got {type(value).__name__}"
        )
    path = Path(value).expanduser()
    return _read_local_json(path, what), path.parent


def _policy_body(policy: PolicyArg, what: str) -> Any:
    return _document(policy, what, ("{",))[0]


def _spec_body(spec: SpecArg) -> Any:
    doc, base = _document(spec, "spec", ("{", "["))
    if isinstance(doc, dict) and isinstance(doc.get("reference"), str):  # a reference file, read here too
        doc = {**doc, "reference": _read_local_json(base / doc["reference"], "spec reference")}
    return doc


def _findings(data: Any) -> list[Finding]:
    from verifiers.iam.lint import Finding

    return [Finding.model_validate(f) for f in data["findings"]]


def _check(data: Any) -> CheckResult:
    from verifiers.iam.checks import CheckResult

    return CheckResult.model_validate(data)


def _comparison(data: Any) -> Comparison:
    from verifiers.iam import Comparison

    return Comparison.model_validate(data)


def _repair_result(data: Any) -> RepairResult:
    from verifiers.iam.repair import RepairResult

    return RepairResult.model_validate(data)


def _cost_report(data: Any) -> CostReport:
    from tools.cost.engine import CostReport

    return CostReport.model_validate(data)


T = TypeVar("T")


@dataclass(frozen=True)
class Request(Generic[T]):
    """One request, described once for the synchronous and the asynchronous client: `method` `path` with
    the JSON `body` and query `params`; `decode` turns the answer's JSON into the call's model."""

    method: str
    path: str
    body: dict[str, Any] | None
    decode: Callable[[Any], T]
    params: dict[str, Any] | None = None


class Send(Protocol):
    """How a client sends a `Request` and returns its decoded answer (`ApiError` when refused)."""

    def __call__(self, request: Request[T], /) -> T: ...


class AsyncSend(Protocol):
    def __call__(self, request: Request[T], /) -> Awaitable[T]: ...


def _diff(policy_a: PolicyArg, policy_b: PolicyArg, timeout_ms: int) -> Request[Comparison]:
    a, b = _policy_body(policy_a, "policy_a"), _policy_body(policy_b, "policy_b")
    return Request(
        "POST", "/v1/iam/diff", {"policy_a": a, "policy_b": b, "timeout_ms": timeout_ms}, _comparison
    )


def _repair(policy: PolicyArg, spec: SpecArg, time_budget_s: float) -> Request[RepairResult]:
    body = {
        "policy": _policy_body(policy, "policy"),
        "spec": _spec_body(spec),
        "time_budget_s": time_budget_s,
    }
    return Request("POST", "/v1/iam/repair", body, _repair_result)


def _lint(policy: PolicyArg, policy_type: str | None) -> Request[list[Finding]]:
    """A local file goes as its text, so the findings get lines and columns (and bad JSON is a finding)."""
    doc: Any
    if isinstance(policy, str | os.PathLike) and not str(policy).lstrip().startswith("{"):
        path = Path(policy).expanduser()
        try:
            doc = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"policy: cannot read {path}: {exc.strerror or exc}") from None
    else:
        doc = _policy_body(policy, "policy")
    return Request("POST", "/v1/iam/lint", {"policy": doc, "policy_type": policy_type}, _findings)


def _no_new_access(new: PolicyArg, existing: PolicyArg, timeout_ms: int) -> Request[CheckResult]:
    body = {
        "policy": _policy_body(new, "policy"),
        "existing": _policy_body(existing, "existing"),
        "timeout_ms": timeout_ms,
    }
    return Request("POST", "/v1/iam/checks/no-new-access", body, _check)


def _access_not_granted(
    policy: PolicyArg, actions: Sequence[str], resources: Sequence[str], timeout_ms: int
) -> Request[CheckResult]:
    body = {"policy": _policy_body(policy, "policy"), "actions": list(actions), "resources": list(resources)}
    return Request("POST", "/v1/iam/checks/access-not-granted", body | {"timeout_ms": timeout_ms}, _check)


def _no_public_access(policy: PolicyArg, resource_type: str, timeout_ms: int) -> Request[CheckResult]:
    body = {
        "policy": _policy_body(policy, "policy"),
        "resource_type": resource_type,
        "timeout_ms": timeout_ms,
    }
    return Request("POST", "/v1/iam/checks/no-public-access", body, _check)


def _plan(namespace: str | None, effort: float) -> Request[CostReport]:
    return Request("POST", "/v1/cost/plan", {"namespace": namespace, "effort": effort}, _cost_report)


class _Calls:
    def __init__(self, send: Send) -> None:
        self._send = send


class _AsyncCalls:
    def __init__(self, send: AsyncSend) -> None:
        self._send = send


class IamCalls(_Calls):
    """`client.iam`: IAM policy diff, checks, lint and repair, on the server, as the same models `Assistant.iam`
    returns."""

    def diff(self, policy_a: PolicyArg, policy_b: PolicyArg, *, timeout_ms: int = 10_000) -> Comparison:
        """How `policy_a` relates to `policy_b`: equivalent, less/more permissive, incomparable, or unknown."""
        return self._send(_diff(policy_a, policy_b, timeout_ms))

    def repair(self, policy: PolicyArg, spec: SpecArg, *, time_budget_s: float = 60.0) -> RepairResult:
        """The fewest edits that make `policy` meet `spec`, least permissive first, with the proofs."""
        return self._send(_repair(policy, spec, time_budget_s))

    def lint(self, policy: PolicyArg, *, policy_type: str | None = None) -> list[Finding]:
        """Access Analyzer-style findings; a local file is sent as text, so they carry lines and columns."""
        return self._send(_lint(policy, policy_type))

    def check_no_new_access(
        self, new: PolicyArg, existing: PolicyArg, *, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS, FAIL (a request `new` grants and `existing` does not, with the statements), or UNKNOWN."""
        return self._send(_no_new_access(new, existing, timeout_ms))

    def check_access_not_granted(
        self,
        policy: PolicyArg,
        *,
        actions: Sequence[str] = (),
        resources: Sequence[str] = (),
        timeout_ms: int = 10_000,
    ) -> CheckResult:
        """PASS when none of the actions (on any of the resources) is granted; FAIL with one that is."""
        return self._send(_access_not_granted(policy, actions, resources, timeout_ms))

    def check_no_public_access(
        self, policy: PolicyArg, *, resource_type: str, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS when the resource policy grants nothing to an outsider; FAIL with the outsider's request."""
        return self._send(_no_public_access(policy, resource_type, timeout_ms))


class CostCalls(_Calls):
    """`client.cost`: the cost report for the server's cluster."""

    def plan(self, namespace: str | None = None, *, effort: float = 1.0) -> CostReport:
        """Right-sizing, the node plan with its proven lower bound and gap, spot risk and savings."""
        return self._send(_plan(namespace, effort))


class AsyncIamCalls(_AsyncCalls):
    """`AsyncClient.iam`: the same calls as `IamCalls`, awaited."""

    async def diff(self, policy_a: PolicyArg, policy_b: PolicyArg, *, timeout_ms: int = 10_000) -> Comparison:
        return await self._send(_diff(policy_a, policy_b, timeout_ms))

    async def repair(self, policy: PolicyArg, spec: SpecArg, *, time_budget_s: float = 60.0) -> RepairResult:
        return await self._send(_repair(policy, spec, time_budget_s))

    async def lint(self, policy: PolicyArg, *, policy_type: str | None = None) -> list[Finding]:
        return await self._send(_lint(policy, policy_type))

    async def check_no_new_access(
        self, new: PolicyArg, existing: PolicyArg, *, timeout_ms: int = 10_000
    ) -> CheckResult:
        return await self._send(_no_new_access(new, existing, timeout_ms))

    async def check_access_not_granted(
        self,
        policy: PolicyArg,
        *,
        actions: Sequence[str] = (),
        resources: Sequence[str] = (),
        timeout_ms: int = 10_000,
    ) -> CheckResult:
        return await self._send(_access_not_granted(policy, actions, resources, timeout_ms))

    async def check_no_public_access(
        self, policy: PolicyArg, *, resource_type: str, timeout_ms: int = 10_000
    ) -> CheckResult:
        return await self._send(_no_public_access(policy, resource_type, timeout_ms))


class AsyncCostCalls(_AsyncCalls):
    """`AsyncClient.cost`: the same call as `CostCalls`, awaited."""

    async def plan(self, namespace: str | None = None, *, effort: float = 1.0) -> CostReport:
        return await self._send(_plan(namespace, effort))
