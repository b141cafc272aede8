"""`Client` and `AsyncClient` send the same requests and read the answers into the same models: each
request is described once (`opsgraph.client_calls.Request`), and this holds the two clients to it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from opsgraph.client import ApiError, AsyncClient, Client

THREAD = {
    "thread_id": "t1",
    "title": "hi",
    "status": "idle",
    "created_at": "2026-01-01",
    "updated_at": "2026-01-01",
}
ANSWERS: dict[tuple[str, str], Any] = {
    ("GET", "/healthz"): {
        "status": "ok",
        "version": "0",
        "checkpoint": "sqlite",
        "auth": True,
        "read_only": False,
    },
    ("GET", "/v1/me"): {
        "user": "alice",
        "role": "admin",
        "can_approve": True,
        "read_only": False,
        "cluster": "c",
    },
    ("POST", "/v1/threads"): THREAD,
    ("GET", "/v1/threads"): [THREAD],
    ("GET", "/v1/threads/t1/audit"): [],
    ("POST", "/v1/threads/t1/cancel"): {"cancelled": True},
}


def _transport(seen: list[tuple[str, str, str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, request.url.query.decode(), body))
        answer = ANSWERS.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"detail": f"no {request.url.path}"})
        return httpx.Response(200, json=answer)

    return httpx.MockTransport(handle)


def _calls(client: Any) -> list[Any]:
    return [
        client.health(),
        client.me(),
        client.create_thread("hi" * 150, thread_id="t1"),
        client.threads(limit=5),
        client.audit("t1"),
        client.cancel("t1"),
    ]


def test_the_sync_and_async_clients_send_the_same_requests_and_read_the_same_models() -> None:
    sync_seen: list[tuple[str, str, str, Any]] = []
    with Client(http=httpx.Client(base_url="http://server", transport=_transport(sync_seen))) as client:
        sync_results = _calls(client)

    async_seen: list[tuple[str, str, str, Any]] = []

    async def run() -> list[Any]:
        http = httpx.AsyncClient(base_url="http://server", transport=_transport(async_seen))
        async with http, AsyncClient(http=http) as client:
            return [await call for call in _calls(client)]

    async_results = asyncio.run(run())
    assert sync_seen == async_seen
    assert sync_seen[2] == ("POST", "/v1/threads", "", {"title": "hi" * 100, "thread_id": "t1"})
    assert sync_seen[3][2] == "limit=5"
    assert sync_results == async_results
    assert sync_results[0].version == "0" and sync_results[3][0].thread_id == "t1" and sync_results[5] is None


def test_both_clients_raise_the_servers_problem() -> None:
    seen: list[tuple[str, str, str, Any]] = []
    with Client(http=httpx.Client(base_url="http://server", transport=_transport(seen))) as client:
        try:
            client.thread("missing")
        except ApiError as exc:
            sync_error = (exc.status, exc.detail)

    async def run() -> tuple[int, str]:
        http = httpx.AsyncClient(base_url="http://server", transport=_transport(seen))
        async with http, AsyncClient(http=http) as client:
            try:
                await client.thread("missing")
            except ApiError as exc:
                return exc.status, exc.detail
        raise AssertionError("no ApiError")

    assert sync_error == asyncio.run(run()) == (404, "no /v1/threads/missing")
