"""`Client` and `AsyncClient`: opsgraph over HTTP, the same surface as the in-process `Assistant`.

from opsgraph import Client

with Client("http://127.0.0.1:8080", token="...") as client:
    result = client.ask("scale deploy web to 3 in shop")
    if result.status == "interrupted":
        result = client.approve(result.thread_id)
    print(result.answer)
    print(client.iam.diff("old.json", "new.json").relation)  # local files are read and sent as JSON

This module holds the session, the runs and their event stream; the typed domain calls (`client.iam`,
`client.cost`) are in `opsgraph.client_calls`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Literal, TypeVar

import httpx
from pydantic import TypeAdapter

from agents.events import CancelledEvent, Event, FinalEvent, InterruptEvent, RouteEvent
from agents.runtime import RunResult
from opsgraph.client_calls import (
    AsyncCostCalls,
    AsyncIamCalls,
    CostCalls,
    IamCalls,
    PolicyArg,
    Request,
    SpecArg,
)
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

T = TypeVar("T")
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


def _answer(response: httpx.Response) -> Any:
    """The JSON of a read response; `ApiError` with the problem's detail when the server refused."""
    if response.status_code >= 400:
        _raise_for_problem(response.status_code, response.content)
    return response.json()


# the requests of both clients, each described once; the typed domain calls are in opsgraph.client_calls
_HEALTH = Request("GET", "/healthz", None, Health.model_validate)
_ME = Request("GET", "/v1/me", None, WhoAmI.model_validate)


def _create_thread(title: str, thread_id: str | None) -> Request[ThreadOut]:
    body = ThreadCreate(title=title[:200], thread_id=thread_id).model_dump(exclude_none=True)
    return Request("POST", "/v1/threads", body, ThreadOut.model_validate)


def _threads(limit: int) -> Request[list[ThreadOut]]:
    return Request("GET", "/v1/threads", None, _THREADS.validate_python, {"limit": limit})


def _thread(thread_id: str) -> Request[ThreadDetail]:
    return Request("GET", f"/v1/threads/{thread_id}", None, ThreadDetail.model_validate)


def _audit(thread_id: str) -> Request[list[AuditEntry]]:
    return Request("GET", f"/v1/threads/{thread_id}/audit", None, _AUDIT.validate_python)


def _cancel(thread_id: str) -> Request[None]:
    return Request("POST", f"/v1/threads/{thread_id}/cancel", None, lambda _answer: None)


def _message(thread_id: str, text: str) -> tuple[str, dict[str, Any]]:
    """Where a message's run streams from, and the body."""
    return f"/v1/threads/{thread_id}/messages", MessageIn(text=text).model_dump()


def _decision(
    thread_id: str, decision: Decision, args: dict[str, Any] | None, comment: str | None
) -> tuple[str, dict[str, Any]]:
    """Where an approval's run streams from, and the body."""
    body = ApprovalIn(decision=decision, args=args, comment=comment).model_dump(exclude_none=True)
    return f"/v1/threads/{thread_id}/approvals", body


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
        self.iam = IamCalls(self._send)
        self.cost = CostCalls(self._send)

    def _send(self, request: Request[T]) -> T:
        response = self._http.request(request.method, request.path, json=request.body, params=request.params)
        return request.decode(_answer(response))

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
        return self._send(_HEALTH)

    def me(self) -> WhoAmI:
        return self._send(_ME)

    def create_thread(self, title: str = "", *, thread_id: str | None = None) -> ThreadOut:
        return self._send(_create_thread(title, thread_id))

    def threads(self, *, limit: int = 100) -> list[ThreadOut]:
        return self._send(_threads(limit))

    def thread(self, thread_id: str) -> ThreadDetail:
        return self._send(_thread(thread_id))

    def audit(self, thread_id: str) -> list[AuditEntry]:
        return self._send(_audit(thread_id))

    # runs
    def stream(self, text: str, *, thread_id: str | None = None) -> Iterator[Event]:
        """Send a message (in a new thread when `thread_id` is None) and yield the run's events."""
        thread_id = thread_id or self.create_thread(text).thread_id
        yield from self._stream(*_message(thread_id, text))

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
        yield from self._stream(*_decision(thread_id, decision, args, comment))

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
        self._send(_cancel(thread_id))

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
        self.iam = AsyncIamCalls(self._send)
        self.cost = AsyncCostCalls(self._send)

    async def _send(self, request: Request[T]) -> T:
        response = await self._http.request(
            request.method, request.path, json=request.body, params=request.params
        )
        return request.decode(_answer(response))

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
        return await self._send(_HEALTH)

    async def me(self) -> WhoAmI:
        return await self._send(_ME)

    async def create_thread(self, title: str = "", *, thread_id: str | None = None) -> ThreadOut:
        return await self._send(_create_thread(title, thread_id))

    async def threads(self, *, limit: int = 100) -> list[ThreadOut]:
        return await self._send(_threads(limit))

    async def thread(self, thread_id: str) -> ThreadDetail:
        return await self._send(_thread(thread_id))

    async def audit(self, thread_id: str) -> list[AuditEntry]:
        return await self._send(_audit(thread_id))

    async def stream(self, text: str, *, thread_id: str | None = None) -> AsyncIterator[Event]:
        thread_id = thread_id or (await self.create_thread(text)).thread_id
        async for event in self._stream(*_message(thread_id, text)):
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
        async for event in self._stream(*_decision(thread_id, decision, args, comment)):
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
        await self._send(_cancel(thread_id))

    async def reject(self, thread_id: str, *, comment: str | None = None) -> RunResult:
        return await self.decide(thread_id, "reject", comment=comment)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
