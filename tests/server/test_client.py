"""`opsgraph.Client` and `opsgraph.AsyncClient` against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import opsgraph
from agents.runtime import Runtime
from opsgraph.client import ApiError, AsyncClient, Client
from opsgraph.settings import Settings
from server.app import create_app
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import TOKENS
from tests.server.live import live_server


@pytest.fixture
def cluster() -> RecordingCluster:
    return RecordingCluster()


@pytest.fixture
def url(checkpoint_url: str, cluster: RecordingCluster) -> Iterator[str]:
    settings = Settings(checkpoint_url=checkpoint_url, api_tokens=TOKENS)
    with Runtime(settings, tools=cluster.tools()) as runtime, live_server(create_app(runtime)) as base:
        yield base


def test_the_client_is_part_of_the_public_sdk() -> None:
    assert "Client" in opsgraph.__all__
    assert opsgraph.Client is Client


def test_ask_approve_round_trip(url: str, cluster: RecordingCluster) -> None:
    with Client(url, token="olga-token") as client:
        paused = client.ask("scale deploy web to 3 in shop")
        assert paused.status == "interrupted"
        assert paused.route == ["kubernetes"]
        assert paused.approval is not None and paused.approval.tool == "scale_deployment"
        done = client.approve(paused.thread_id, comment="go")
        assert done.status == "done"
        assert "scaled to 3" in (done.answer or "")
        [entry] = client.audit(paused.thread_id)
        assert (entry.decision, entry.approver) == ("approved", "olga")
        assert [t.thread_id for t in client.threads()] == [paused.thread_id]
        assert [m.role for m in client.thread(paused.thread_id).messages] == [
            "user",
            "assistant",
            "tool",
            "assistant",
        ]
    assert cluster.replicas["shop/web"] == 3


def test_stream_yields_typed_events(url: str) -> None:
    with Client(url, token="alice-token") as client:
        thread = client.create_thread("pods", thread_id="pods-1")
        events = list(client.stream("list pods in payments", thread_id=thread.thread_id))
    assert [e.type for e in events[:4]] == ["start", "route", "tool_call", "tool_result"]
    assert events[-1].type == "final"
    assert events[-1].thread_id == thread.thread_id
    assert thread.thread_id.startswith("pods-1.")  # a chosen id is made its owner's


def test_errors_are_raised_with_the_servers_detail(url: str) -> None:
    with Client(url, token="alice-token") as alice, Client(url, token="rita-token") as rita:
        paused = alice.ask("scale deploy web to 3 in shop")
        with pytest.raises(ApiError) as missing:
            rita.thread(paused.thread_id)
        assert missing.value.status == 404
        own = rita.create_thread("mine")
        with pytest.raises(ApiError) as forbidden:
            rita.approve(own.thread_id)
        assert forbidden.value.status == 403
        assert "readonly" in forbidden.value.detail
    with Client(url, token="wrong") as stranger, pytest.raises(ApiError) as unauthorized:
        stranger.threads()
    assert unauthorized.value.status == 401
    assert Client(url).health().auth is True


def test_async_client_round_trip(url: str, cluster: RecordingCluster) -> None:
    async def chat() -> tuple[str, str | None]:
        async with AsyncClient(url, token="alice-token") as client:
            assert (await client.me()).user == "alice"
            paused = await client.ask("scale deploy web to 2 in shop")
            done = await client.approve(paused.thread_id)
            return paused.status, done.answer

    status, answer = asyncio.run(chat())
    assert status == "interrupted"
    assert "scaled to 2" in (answer or "")
    assert cluster.replicas["shop/web"] == 2
