"""Fixtures for the HTTP API: a server over recording tools and a SQLite database, with three tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from tests.agents.recording_tools import RecordingCluster

TOKENS = "alice-token=alice:admin,olga-token=olga:operator,rita-token=rita:readonly"
ALICE = {"Authorization": "Bearer alice-token"}
OLGA = {"Authorization": "Bearer olga-token"}
RITA = {"Authorization": "Bearer rita-token"}


@dataclass
class Served:
    client: TestClient
    runtime: Runtime
    cluster: RecordingCluster
    settings: Settings


def sse(response: httpx.Response) -> list[dict[str, Any]]:
    """The events of a `text/event-stream` body, as dicts with their SSE `event` name and `id`."""
    assert response.headers["content-type"].startswith("text/event-stream"), response.text
    events: list[dict[str, Any]] = []
    for block in response.text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = value
        if "data" in fields:
            events.append(
                {**json.loads(fields["data"]), "_event": fields.get("event"), "_id": fields.get("id")}
            )
    return events


def new_thread(client: TestClient, headers: dict[str, str], title: str = "") -> str:
    response = client.post("/v1/threads", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.text
    thread_id: str = response.json()["thread_id"]
    return thread_id


def send(client: TestClient, thread_id: str, text: str, headers: dict[str, str]) -> httpx.Response:
    return client.post(f"/v1/threads/{thread_id}/messages", json={"text": text}, headers=headers)


def decide(client: TestClient, thread_id: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return client.post(f"/v1/threads/{thread_id}/approvals", json=body, headers=headers)


@pytest.fixture
def checkpoint_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'checkpoints.sqlite'}"


@pytest.fixture
def served(checkpoint_url: str) -> Iterator[Served]:
    cluster = RecordingCluster()
    settings = Settings(checkpoint_url=checkpoint_url, api_tokens=TOKENS)
    with Runtime(settings, tools=cluster.tools()) as runtime, TestClient(create_app(runtime)) as client:
        yield Served(client, runtime, cluster, settings)
