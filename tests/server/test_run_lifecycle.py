"""A run owns its thread until it ends: a second request gets 409, a failure streams an `error` event, and
a client that leaves early does not stop the run or leave the thread locked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agents.events import Event, RouteEvent
from agents.runtime import ModelUnavailableError, Runtime
from opsgraph.settings import Settings
from server.app import create_app
from server.state import ServerState
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import ALICE, TOKENS, Served, new_thread, send, sse
from tests.server.live import live_server


def test_a_busy_thread_refuses_a_second_run(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    state: ServerState = served.client.app.state.opsgraph  # type: ignore[attr-defined]
    assert state.busy.claim(thread_id)  # as if a run were streaming
    response = send(served.client, thread_id, "list pods", ALICE)
    assert response.status_code == 409
    assert "busy" in response.json()["detail"]
    state.busy.release(thread_id)
    assert send(served.client, thread_id, "list pods", ALICE).status_code == 200


def test_a_failure_mid_run_is_an_error_event(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(text: str, **kwargs: Any) -> Iterator[Event]:
        yield RouteEvent(agents=["kubernetes"])
        raise ModelUnavailableError("cannot use the model at http://127.0.0.1:9: connection refused")

    monkeypatch.setattr(served.runtime, "stream", failing)
    thread_id = new_thread(served.client, ALICE)
    events = sse(send(served.client, thread_id, "list pods", ALICE))
    assert [e["type"] for e in events] == ["start", "route", "error"]
    assert "connection refused" in events[-1]["message"]
    monkeypatch.undo()
    assert send(served.client, thread_id, "list pods", ALICE).status_code == 200  # the thread is free again


def test_a_client_that_leaves_does_not_stop_the_run(checkpoint_url: str) -> None:
    cluster = RecordingCluster()
    settings = Settings(checkpoint_url=checkpoint_url, api_tokens=TOKENS)
    with (
        Runtime(settings, tools=cluster.tools()) as runtime,
        live_server(create_app(runtime)) as url,
        httpx.Client(base_url=url, headers=ALICE) as http,
    ):
        thread_id = http.post("/v1/threads", json={}).json()["thread_id"]
        body = {"text": "scale deploy web to 3 in shop"}
        with http.stream("POST", f"/v1/threads/{thread_id}/messages", json=body) as response:
            next(response.iter_lines())  # read the first line, then hang up
        deadline = time.monotonic() + 10
        while http.get(f"/v1/threads/{thread_id}").json()["status"] != "interrupted":
            assert time.monotonic() < deadline, "the run did not reach its approval"
            time.sleep(0.05)
        with http.stream("POST", f"/v1/threads/{thread_id}/approvals", json={"decision": "approve"}) as done:
            assert done.status_code == 200  # not 409: the run released the thread when it ended
            assert '"type":"final"' in done.read().decode()
    assert cluster.replicas["shop/web"] == 3
