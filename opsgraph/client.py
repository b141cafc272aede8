"""`Client` and `AsyncClient`: opsgraph over HTTP, the same surface as the in-process `Assistant`.

from opsgraph import Client

with Client("http://127.0.0.1:8080", token="...") as client:
    result = client.ask("scale deploy web to 3 in shop")
    if result.status == "interrupted":
        result = client.approve(result.thread_id)
    print(result.answer)
    print(client.iam.diff("old.json", "new.json").relation)  # local files are read and sent as JSON
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import httpx
from pydantic import TypeAdapter

from agents.events import CancelledEvent, Event, FinalEvent, InterruptEvent, RouteEvent
from agents.runtime import RunResult
from server.models import (
    ApprovalIn,
    AuditEntry,
    Health,
    MessageIn,
    ThreadCreate,
    ThreadDetail,
    ThreadOut,
    WhoAmI,
)

if TYPE_CHECKING:
    from policies import Policy
    from tools.cost.engine import CostReport
    from verifiers.iam import Comparison
    from verifiers.iam.checks import CheckResult
    from verifiers.iam.lint import Finding
    from verifiers.iam.repair import RepairResult

__all__ = [
    "ApiError",
    "AsyncClient",
    "AsyncCostCalls",
    "AsyncIamCalls",
    "Client",
    "CostCalls",
    "IamCalls",
    "PolicyArg",
    "RunError",
    "RunResult",
    "SpecArg",
    "collect",
]

Decision = Literal["approve", "reject", "edit"]
_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
_THREADS = TypeAdapter(list[ThreadOut])
_AUDIT = TypeAdapter(list[AuditEntry])


class ApiError(RuntimeError):
    """The server refused the request; `status` and the problem object's `detail` say why."""

    def __init__(self, status: int, detail: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail, self.problem = status, detail, problem or {}


class RunError(RuntimeError):
    """The run failed on the server after it started streaming (an `error` event)."""


def _raise_for_problem(status: int, body: bytes) -> None:
    try:
        problem = json.loads(body)
        detail = str(problem.get("detail", problem))
    except (ValueError, AttributeError):
        problem, detail = None, body.decode(errors="replace")[:500] or "no details"
    raise ApiError(status, detail, problem if isinstance(problem, dict) else None)


class _SseParser:
    """Turns `text/event-stream` lines into events (only `data:` matters: it carries the typed event)."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> Event | None:
        if line.startswith("data:"):
            self._data.append(line[5:].removeprefix(" "))
        elif not line and self._data:
            payload, self._data = "\n".join(self._data), []
            return _EVENT.validate_json(payload)
        return None


def collect(thread_id: str, events: Iterable[Event]) -> RunResult:
    """Fold a run's events into its result (what `Assistant.ask` returns in-process)."""
    route: list[str] = []
    result: RunResult | None = None
    for event in events:  # read to the end: the server frees the thread when the stream ends
        if isinstance(event, RouteEvent):
            route += event.agents
        elif isinstance(event, FinalEvent):
            result = RunResult(
                thread_id=thread_id, status=event.status, answer=event.answer, route=route, error=event.error
            )
        elif isinstance(event, InterruptEvent) and result is None:
            result = RunResult(
                thread_id=thread_id, status="interrupted", approval=event.approval, route=route
            )
        elif isinstance(event, CancelledEvent):
            why = f"stopped by {event.by}" if event.by else "stopped"
            result = RunResult(thread_id=thread_id, status="interrupted", route=route, reason=why)
        elif event.type == "error":
            raise RunError(event.message)
    if result is None:
        raise RunError(f"the stream for thread {thread_id} ended without an answer or an approval request")
    return result


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _decision_body(decision: Decision, args: dict[str, Any] | None, comment: str | None) -> dict[str, Any]:
    return ApprovalIn(decision=decision, args=args, comment=comment).model_dump(exclude_none=True)


# typed domain calls: policies and specs go over the wire as JSON, never as paths the server would read
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


def _diff_body(policy_a: PolicyArg, policy_b: PolicyArg, timeout_ms: int) -> dict[str, Any]:
    a, b = _policy_body(policy_a, "policy_a"), _policy_body(policy_b, "policy_b")
    return {"policy_a": a, "policy_b": b, "timeout_ms": timeout_ms}


def _repair_body(policy: PolicyArg, spec: SpecArg, time_budget_s: float) -> dict[str, Any]:
    return {
        "policy": _policy_body(policy, "policy"),
        "spec": _spec_body(spec),
        "time_budget_s": time_budget_s,
    }


def _lint_body(policy: PolicyArg, policy_type: str | None) -> dict[str, Any]:
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
    return {"policy": doc, "policy_type": policy_type}


def _new_access_body(new: PolicyArg, existing: PolicyArg, timeout_ms: int) -> dict[str, Any]:
    return {
        "policy": _policy_body(new, "policy"),
        "existing": _policy_body(existing, "existing"),
        "timeout_ms": timeout_ms,
    }


def _not_granted_body(
    policy: PolicyArg, actions: Sequence[str], resources: Sequence[str], timeout_ms: int
) -> dict[str, Any]:
    body = {"policy": _policy_body(policy, "policy"), "actions": list(actions), "resources": list(resources)}
    return body | {"timeout_ms": timeout_ms}


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


_Post = Callable[[str, dict[str, Any]], Any]
_AsyncPost = Callable[[str, dict[str, Any]], Awaitable[Any]]


class IamCalls:
    """`client.iam`: IAM policy diff, checks, lint and repair, on the server, as the same models `Assistant.iam`
    returns."""

    def __init__(self, post: _Post) -> None:
        self._post = post

    def diff(self, policy_a: PolicyArg, policy_b: PolicyArg, *, timeout_ms: int = 10_000) -> Comparison:
        """How `policy_a` relates to `policy_b`: equivalent, less/more permissive, incomparable, or unknown."""
        return _comparison(self._post("/v1/iam/diff", _diff_body(policy_a, policy_b, timeout_ms)))

    def repair(self, policy: PolicyArg, spec: SpecArg, *, time_budget_s: float = 60.0) -> RepairResult:
        """The fewest edits that make `policy` meet `spec`, least permissive first, with the proofs."""
        return _repair_result(self._post("/v1/iam/repair", _repair_body(policy, spec, time_budget_s)))

    def lint(self, policy: PolicyArg, *, policy_type: str | None = None) -> list[Finding]:
        """Access Analyzer-style findings; a local file is sent as text, so they carry lines and columns."""
        return _findings(self._post("/v1/iam/lint", _lint_body(policy, policy_type)))

    def check_no_new_access(
        self, new: PolicyArg, existing: PolicyArg, *, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS, FAIL (a request `new` grants and `existing` does not, with the statements), or UNKNOWN."""
        return _check(self._post("/v1/iam/checks/no-new-access", _new_access_body(new, existing, timeout_ms)))

    def check_access_not_granted(
        self,
        policy: PolicyArg,
        *,
        actions: Sequence[str] = (),
        resources: Sequence[str] = (),
        timeout_ms: int = 10_000,
    ) -> CheckResult:
        """PASS when none of the actions (on any of the resources) is granted; FAIL with one that is."""
        body = _not_granted_body(policy, actions, resources, timeout_ms)
        return _check(self._post("/v1/iam/checks/access-not-granted", body))

    def check_no_public_access(
        self, policy: PolicyArg, *, resource_type: str, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS when the resource policy grants nothing to an outsider; FAIL with the outsider's request."""
        body = {
            "policy": _policy_body(policy, "policy"),
            "resource_type": resource_type,
            "timeout_ms": timeout_ms,
        }
        return _check(self._post("/v1/iam/checks/no-public-access", body))


class CostCalls:
    """`client.cost`: the cost report for the server's cluster."""

    def __init__(self, post: _Post) -> None:
        self._post = post

    def plan(self, namespace: str | None = None, *, effort: float = 1.0) -> CostReport:
        """Right-sizing, the node plan with its proven lower bound and gap, spot risk and savings."""
        body = {"namespace": namespace, "effort": effort}
        return _cost_report(self._post("/v1/cost/plan", body))


class AsyncIamCalls:
    """`AsyncClient.iam`: the same calls as `IamCalls`, awaited."""

    def __init__(self, post: _AsyncPost) -> None:
        self._post = post

    async def diff(self, policy_a: PolicyArg, policy_b: PolicyArg, *, timeout_ms: int = 10_000) -> Comparison:
        return _comparison(await self._post("/v1/iam/diff", _diff_body(policy_a, policy_b, timeout_ms)))

    async def repair(self, policy: PolicyArg, spec: SpecArg, *, time_budget_s: float = 60.0) -> RepairResult:
        return _repair_result(await self._post("/v1/iam/repair", _repair_body(policy, spec, time_budget_s)))

    async def lint(self, policy: PolicyArg, *, policy_type: str | None = None) -> list[Finding]:
        """Access Analyzer-style findings; a local file is sent as text, so they carry lines and columns."""
        return _findings(await self._post("/v1/iam/lint", _lint_body(policy, policy_type)))

    async def check_no_new_access(
        self, new: PolicyArg, existing: PolicyArg, *, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS, FAIL (a request `new` grants and `existing` does not, with the statements), or UNKNOWN."""
        return _check(
            await self._post("/v1/iam/checks/no-new-access", _new_access_body(new, existing, timeout_ms))
        )

    async def check_access_not_granted(
        self,
        policy: PolicyArg,
        *,
        actions: Sequence[str] = (),
        resources: Sequence[str] = (),
        timeout_ms: int = 10_000,
    ) -> CheckResult:
        """PASS when none of the actions (on any of the resources) is granted; FAIL with one that is."""
        body = _not_granted_body(policy, actions, resources, timeout_ms)
        return _check(await self._post("/v1/iam/checks/access-not-granted", body))

    async def check_no_public_access(
        self, policy: PolicyArg, *, resource_type: str, timeout_ms: int = 10_000
    ) -> CheckResult:
        """PASS when the resource policy grants nothing to an outsider; FAIL with the outsider's request."""
        body = {
            "policy": _policy_body(policy, "policy"),
            "resource_type": resource_type,
            "timeout_ms": timeout_ms,
        }
        return _check(await self._post("/v1/iam/checks/no-public-access", body))


class AsyncCostCalls:
    """`AsyncClient.cost`: the same call as `CostCalls`, awaited."""

    def __init__(self, post: _AsyncPost) -> None:
        self._post = post

    async def plan(self, namespace: str | None = None, *, effort: float = 1.0) -> CostReport:
        body = {"namespace": namespace, "effort": effort}
        return _cost_report(await self._post("/v1/cost/plan", body))


class Client:
    """Synchronous HTTP client. Pass `http=` to reuse an `httpx.Client` (e.g. one with a custom transport)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        token: str | None = None,
        timeout: float = 120.0,
        http: httpx.Client | None = None,
    ) -> None:
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._http.headers.update(_headers(token))
        self._owns_http = http is None
        self.iam = IamCalls(self._post)
        self.cost = CostCalls(self._post)

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        response = self._http.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            _raise_for_problem(response.status_code, response.content)
        return response.json()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self._json("POST", path, body)

    def _stream(self, path: str, body: dict[str, Any]) -> Iterator[Event]:
        with self._http.stream("POST", path, json=body, headers={"Accept": "text/event-stream"}) as response:
            if response.status_code >= 400:
                _raise_for_problem(response.status_code, response.read())
            parser = _SseParser()
            for line in response.iter_lines():
                if (event := parser.feed(line)) is not None:
                    yield event

    # threads
    def health(self) -> Health:
        return Health.model_validate(self._json("GET", "/healthz"))

    def me(self) -> WhoAmI:
        return WhoAmI.model_validate(self._json("GET", "/v1/me"))

    def create_thread(self, title: str = "", *, thread_id: str | None = None) -> ThreadOut:
        body = ThreadCreate(title=title[:200], thread_id=thread_id).model_dump(exclude_none=True)
        return ThreadOut.model_validate(self._json("POST", "/v1/threads", body))

    def threads(self, *, limit: int = 100) -> list[ThreadOut]:
        return _THREADS.validate_python(self._json("GET", "/v1/threads", limit=limit))

    def thread(self, thread_id: str) -> ThreadDetail:
        return ThreadDetail.model_validate(self._json("GET", f"/v1/threads/{thread_id}"))

    def audit(self, thread_id: str) -> list[AuditEntry]:
        return _AUDIT.validate_python(self._json("GET", f"/v1/threads/{thread_id}/audit"))

    # runs
    def stream(self, text: str, *, thread_id: str | None = None) -> Iterator[Event]:
        """Send a message (in a new thread when `thread_id` is None) and yield the run's events."""
        thread_id = thread_id or self.create_thread(text).thread_id
        yield from self._stream(f"/v1/threads/{thread_id}/messages", MessageIn(text=text).model_dump())

    def ask(self, text: str, *, thread_id: str | None = None) -> RunResult:
        """Send a message; returns the answer, or the approval request a mutating call is waiting on."""
        thread_id = thread_id or self.create_thread(text).thread_id
        return collect(thread_id, self.stream(text, thread_id=thread_id))

    def stream_decision(
        self,
        thread_id: str,
        decision: Decision,
        *,
        args: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> Iterator[Event]:
        yield from self._stream(f"/v1/threads/{thread_id}/approvals", _decision_body(decision, args, comment))

    def decide(
        self,
        thread_id: str,
        decision: Decision,
        *,
        args: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> RunResult:
        """Answer the pending approval on a thread and run on."""
        events = self.stream_decision(thread_id, decision, args=args, comment=comment)
        return collect(thread_id, events)

    def approve(self, thread_id: str, *, comment: str | None = None) -> RunResult:
        return self.decide(thread_id, "approve", comment=comment)

    def cancel(self, thread_id: str) -> None:
        """Stop the thread's run after its current step (its stream ends with a `cancelled` event);
        `ApiError` 409 when it has none in progress."""
        self._json("POST", f"/v1/threads/{thread_id}/cancel")

    def reject(self, thread_id: str, *, comment: str | None = None) -> RunResult:
        return self.decide(thread_id, "reject", comment=comment)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """The same surface as `Client`, for asyncio code."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        token: str | None = None,
        timeout: float = 120.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._http.headers.update(_headers(token))
        self._owns_http = http is None
        self.iam = AsyncIamCalls(self._post)
        self.cost = AsyncCostCalls(self._post)

    async def _json(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        response = await self._http.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            _raise_for_problem(response.status_code, response.content)
        return response.json()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._json("POST", path, body)

    async def _stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[Event]:
        async with self._http.stream(
            "POST", path, json=body, headers={"Accept": "text/event-stream"}
        ) as response:
            if response.status_code >= 400:
                _raise_for_problem(response.status_code, await response.aread())
            parser = _SseParser()
            async for line in response.aiter_lines():
                if (event := parser.feed(line)) is not None:
                    yield event

    async def health(self) -> Health:
        return Health.model_validate(await self._json("GET", "/healthz"))

    async def me(self) -> WhoAmI:
        return WhoAmI.model_validate(await self._json("GET", "/v1/me"))

    async def create_thread(self, title: str = "", *, thread_id: str | None = None) -> ThreadOut:
        body = ThreadCreate(title=title[:200], thread_id=thread_id).model_dump(exclude_none=True)
        return ThreadOut.model_validate(await self._json("POST", "/v1/threads", body))

    async def threads(self, *, limit: int = 100) -> list[ThreadOut]:
        return _THREADS.validate_python(await self._json("GET", "/v1/threads", limit=limit))

    async def thread(self, thread_id: str) -> ThreadDetail:
        return ThreadDetail.model_validate(await self._json("GET", f"/v1/threads/{thread_id}"))

    async def audit(self, thread_id: str) -> list[AuditEntry]:
        return _AUDIT.validate_python(await self._json("GET", f"/v1/threads/{thread_id}/audit"))

    async def stream(self, text: str, *, thread_id: str | None = None) -> AsyncIterator[Event]:
        thread_id = thread_id or (await self.create_thread(text)).thread_id
        async for event in self._stream(
            f"/v1/threads/{thread_id}/messages", MessageIn(text=text).model_dump()
        ):
            yield event

    async def ask(self, text: str, *, thread_id: str | None = None) -> RunResult:
        thread_id = thread_id or (await self.create_thread(text)).thread_id
        return collect(thread_id, [e async for e in self.stream(text, thread_id=thread_id)])

    async def stream_decision(
        self,
        thread_id: str,
        decision: Decision,
        *,
        args: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> AsyncIterator[Event]:
        path = f"/v1/threads/{thread_id}/approvals"
        async for event in self._stream(path, _decision_body(decision, args, comment)):
            yield event

    async def decide(
        self,
        thread_id: str,
        decision: Decision,
        *,
        args: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> RunResult:
        events = [e async for e in self.stream_decision(thread_id, decision, args=args, comment=comment)]
        return collect(thread_id, events)

    async def approve(self, thread_id: str, *, comment: str | None = None) -> RunResult:
        return await self.decide(thread_id, "approve", comment=comment)

    async def cancel(self, thread_id: str) -> None:
        """As `Client.cancel`."""
        await self._json("POST", f"/v1/threads/{thread_id}/cancel")

    async def reject(self, thread_id: str, *, comment: str | None = None) -> RunResult:
        return await self.decide(thread_id, "reject", comment=comment)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
