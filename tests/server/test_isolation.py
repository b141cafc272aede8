"""One user's threads are invisible to another: every route answers 404, exactly as for a missing thread."""

from __future__ import annotations

import pytest

from tests.server.conftest import ALICE, OLGA, Served, decide, new_thread, send, sse


@pytest.fixture
def alices_thread(served: Served) -> str:
    thread_id = new_thread(served.client, ALICE, "alice's secret")
    assert (
        sse(send(served.client, thread_id, "scale deploy web to 3 in shop", ALICE))[-1]["type"] == "interrupt"
    )
    return thread_id


def test_another_users_thread_is_not_found(served: Served, alices_thread: str) -> None:
    client = served.client
    missing = {
        "get": client.get(f"/v1/threads/{alices_thread}", headers=OLGA),
        "audit": client.get(f"/v1/threads/{alices_thread}/audit", headers=OLGA),
        "message": send(client, alices_thread, "list pods", OLGA),
        "approve": decide(client, alices_thread, OLGA, decision="approve"),
    }
    never = client.get("/v1/threads/no-such-thread", headers=OLGA)
    for what, response in missing.items():
        assert response.status_code == 404, what
        assert response.json()["detail"] == f"no thread {alices_thread}", what
    assert never.json()["detail"] == "no thread no-such-thread"
    assert served.cluster.replicas["shop/web"] == 1  # olga's approve did not run alice's call


def test_another_users_threads_are_not_listed(served: Served, alices_thread: str) -> None:
    assert served.client.get("/v1/threads", headers=OLGA).json() == []
    assert [t["thread_id"] for t in served.client.get("/v1/threads", headers=ALICE).json()] == [alices_thread]
