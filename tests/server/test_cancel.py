"""`POST /v1/threads/{id}/cancel` stops a run after its current step, in the server's threads and in worker
processes: the stream ends with a `cancelled` event, later steps never run, and the thread rests (idle,
not error) and takes the next message."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.tools import StructuredTool

from agents.runtime import Runtime
from opsgraph.client import ApiError, Client
from opsgraph.settings import Settings
from sandbox.testing import SandboxCluster
from server.app import create_app
from server.workers import RunProcesses
from tests.server.conftest import ALICE, OLGA, TOKENS
from tests.server.live import live_server


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])


def _run_and_cancel(url: str, text: str, cancel_after: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Send `text`, ask to cancel as soon as an event of type `cancel_after` arrives, return all events."""
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        thread_id = http.post("/v1/threads", json={"title": text}).json()["thread_id"]
        seen: list[dict[str, Any]] = []
        with http.stream("POST", f"/v1/threads/{thread_id}/messages", json={"text": text}) as response:
            for event in _events(response):
                seen.append(event)
                if event["type"] == cancel_after and len([e for e in seen if e["type"] == cancel_after]) == 1:
                    answer = http.post(f"/v1/threads/{thread_id}/cancel")
                    assert answer.status_code == 202, answer.text
                    assert answer.json() == {"thread_id": thread_id, "status": "stopping"}
        return seen


class SlowPods:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def tools(self) -> Any:
        def list_pods(namespace: str = "default") -> str:
            """List the pods of a namespace."""
            self.calls.append(namespace)
            time.sleep(1.0)  # Stop comes while this call runs: the next one never starts
            return f"{namespace}: web-1 Running"

        return {"kubernetes": [StructuredTool.from_function(list_pods)], "iam": [], "cost": []}


@pytest.fixture
def threads_server(tmp_path: Path) -> Iterator[tuple[str, Runtime, SlowPods]]:
    pods = SlowPods()
    settings = Settings(checkpoint_url=f"sqlite:///{tmp_path / 'c.sqlite'}", api_tokens=TOKENS)
    with Runtime(settings, tools=pods.tools()) as runtime, live_server(create_app(runtime)) as url:
        yield url, runtime, pods


def test_cancel_stops_a_run_between_steps_and_the_thread_goes_on(
    threads_server: tuple[str, Runtime, SlowPods],
) -> None:
    url, runtime, pods = threads_server
    events = _run_and_cancel(url, "list pods in a and list pods in b and list pods in c", "tool_call", ALICE)
    assert events[-1] == {"type": "cancelled", "thread_id": events[0]["thread_id"], "by": "alice"}
    assert "final" not in [e["type"] for e in events]
    assert pods.calls == ["a"], "no step after the one under way when Stop came"
    thread_id = events[0]["thread_id"]
    info = runtime.store.thread(thread_id)
    assert info is not None and info.status == "idle"

    with Client(url, token="alice-token") as client:
        result = client.ask("list pods in d", thread_id=thread_id)
        assert result.status == "done" and "d: web-1 Running" in (result.answer or "")
        with pytest.raises(ApiError) as refused:
            client.cancel(thread_id)  # nothing runs now
        assert refused.value.status == 409


def test_only_the_owner_may_cancel(threads_server: tuple[str, Runtime, SlowPods]) -> None:
    url, _, _ = threads_server
    with httpx.Client(base_url=url, timeout=30) as http:
        thread_id = http.post("/v1/threads", json={}, headers=ALICE).json()["thread_id"]
        assert http.post(f"/v1/threads/{thread_id}/cancel", headers=OLGA).status_code == 404


def test_cancel_reaches_a_run_in_a_worker_process(sandbox_cluster: SandboxCluster, tmp_path: Path) -> None:
    settings = Settings(
        checkpoint_url=f"sqlite:///{tmp_path / 'c.sqlite'}",
        api_tokens=TOKENS,
        kubeconfig=sandbox_cluster.kubeconfig,
        data_dir=tmp_path,
        model="offline",
    )
    processes = RunProcesses(settings, processes=1, threads=2)
    done = threading.Event()
    with Runtime(settings) as runtime, live_server(create_app(runtime, processes=processes)) as url:
        # the whole cluster's cost plan is a step of a second or more: Stop arrives while it runs
        events = _run_and_cancel(url, "optimize cost and list pods in shop", "tool_call", ALICE)
        done.set()
        tools = [e["tool"] for e in events if e["type"] == "tool_call"]
        assert events[-1]["type"] == "cancelled" and events[-1]["by"] == "alice"
        assert tools == ["optimize_cost"], "the kubernetes agent never started"
        info = runtime.store.thread(events[0]["thread_id"])
        assert info is not None and info.status == "idle"
    assert done.is_set()
