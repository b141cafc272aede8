"""The CLI, the SDK and the server share one checkpoint database: a thread moves freely between them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from agents.runtime import Runtime
from opsgraph import cli
from opsgraph.client import Client
from opsgraph.sdk import Assistant
from opsgraph.settings import Settings
from server.app import create_app
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import ALICE, TOKENS, decide, sse
from tests.server.live import live_server


@pytest.fixture
def cluster() -> RecordingCluster:
    return RecordingCluster()


@pytest.fixture
def as_alice_in_the_cli(
    monkeypatch: pytest.MonkeyPatch, checkpoint_url: str, cluster: RecordingCluster
) -> None:
    monkeypatch.setenv("OPSGRAPH_CHECKPOINT_URL", checkpoint_url)
    monkeypatch.setenv("OPSGRAPH_USER", "alice")
    monkeypatch.setattr(cli, "_assistant", lambda: Assistant(tools=cluster.tools()))


def _server(checkpoint_url: str, cluster: RecordingCluster) -> Runtime:
    return Runtime(Settings(checkpoint_url=checkpoint_url, api_tokens=TOKENS), tools=cluster.tools())


@pytest.mark.usefixtures("as_alice_in_the_cli")
def test_thread_started_in_the_cli_is_approved_over_http(
    checkpoint_url: str, cluster: RecordingCluster
) -> None:
    asked = CliRunner().invoke(cli.app, ["ask", "scale deploy web to 3 in shop", "--new-thread", "cli-1"])
    assert asked.exit_code == 0, asked.output
    assert "opsgraph approve cli-1" in asked.output
    with _server(checkpoint_url, cluster) as runtime, TestClient(create_app(runtime)) as client:
        detail = client.get("/v1/threads/cli-1", headers=ALICE).json()
        assert detail["status"] == "interrupted"
        assert detail["pending"]["args"]["replicas"] == 3
        events = sse(decide(client, "cli-1", ALICE, decision="approve"))
        assert events[-1]["type"] == "final"
    assert cluster.replicas["shop/web"] == 3


@pytest.mark.usefixtures("as_alice_in_the_cli")
def test_thread_started_over_http_is_approved_in_the_cli(
    checkpoint_url: str, cluster: RecordingCluster
) -> None:
    with _server(checkpoint_url, cluster) as runtime, TestClient(create_app(runtime)) as client:
        web = client.post("/v1/threads", json={"thread_id": "web-1"}, headers=ALICE).json()["thread_id"]
        client.post(
            f"/v1/threads/{web}/messages", json={"text": "scale deploy web to 5 in shop"}, headers=ALICE
        )
    approved = CliRunner().invoke(cli.app, ["approve", web, "--comment", "from the terminal"])
    assert approved.exit_code == 0, approved.output
    assert cluster.replicas["shop/web"] == 5


def test_thread_started_with_the_http_client_is_resumed_in_the_sdk(
    checkpoint_url: str, cluster: RecordingCluster
) -> None:
    with (
        _server(checkpoint_url, cluster) as runtime,
        live_server(create_app(runtime)) as url,
        Client(url, token="alice-token") as client,
    ):
        result = client.ask("scale deploy web to 3 in shop")
    assert result.status == "interrupted"
    assert result.approval is not None and result.approval.preview == {"diff": "spec.replicas: 1 -> 3"}
    settings = Settings(checkpoint_url=checkpoint_url, user="alice")
    with Assistant(settings, tools=cluster.tools()) as assistant:
        done = assistant.approve(result.thread_id)
        assert done.status == "done"
        assert [e.decision for e in assistant.audit(result.thread_id)] == ["approved"]
    assert cluster.replicas["shop/web"] == 3
