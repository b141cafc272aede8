"""Two server processes on one Postgres database serve the same threads (a load balancer may alternate)."""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import ALICE, OLGA, TOKENS, decide, send, sse

POSTGRES_URL = os.environ.get("OPSGRAPH_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="set OPSGRAPH_TEST_POSTGRES_URL to run (.ci/run does)"),
]


def test_two_server_instances_share_a_thread() -> None:
    assert POSTGRES_URL
    cluster = RecordingCluster()
    settings = Settings(checkpoint_url=POSTGRES_URL, api_tokens=TOKENS)
    chosen = f"pg-{uuid.uuid4().hex}"
    with (
        Runtime(settings, tools=cluster.tools()) as first_runtime,
        Runtime(settings, tools=cluster.tools()) as second_runtime,
        TestClient(create_app(first_runtime)) as first,
        TestClient(create_app(second_runtime)) as second,
    ):
        created = first.post("/v1/threads", json={"thread_id": chosen}, headers=ALICE)
        assert created.status_code == 201
        thread_id = created.json()["thread_id"]
        assert sse(send(first, thread_id, "scale deploy web to 3 in shop", ALICE))[-1]["type"] == "interrupt"
        assert second.get(f"/v1/threads/{thread_id}", headers=ALICE).json()["status"] == "interrupted"
        assert second.get(f"/v1/threads/{thread_id}", headers=OLGA).status_code == 404
        events = sse(decide(second, thread_id, ALICE, decision="approve"))
        assert events[-1]["type"] == "final"
        assert cluster.replicas["shop/web"] == 3
        audit = first.get(f"/v1/threads/{thread_id}/audit", headers=ALICE).json()
        assert [(e["decision"], e["approver"]) for e in audit] == [("approved", "alice")]
        assert thread_id in [t["thread_id"] for t in first.get("/v1/threads", headers=ALICE).json()]
