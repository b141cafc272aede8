"""`/v1/threads`: create, list, read."""

from __future__ import annotations

from tests.server.conftest import ALICE, OLGA, Served, new_thread, send


def test_create_then_list_and_read(served: Served) -> None:
    client = served.client
    response = client.post("/v1/threads", json={"title": "payments", "thread_id": "pay-1"}, headers=ALICE)
    assert response.status_code == 201
    assert response.json()["thread_id"] == "pay-1"
    assert response.json()["status"] == "idle"
    [listed] = client.get("/v1/threads", headers=ALICE).json()
    assert (listed["thread_id"], listed["title"]) == ("pay-1", "payments")
    detail = client.get("/v1/threads/pay-1", headers=ALICE).json()
    assert detail["messages"] == []
    assert detail["pending"] is None


def test_fresh_ids_are_unique(served: Served) -> None:
    ids = {new_thread(served.client, ALICE) for _ in range(3)}
    assert len(ids) == 3


def test_taken_id_is_a_conflict(served: Served) -> None:
    new = {"thread_id": "dup-1"}
    assert served.client.post("/v1/threads", json=new, headers=ALICE).status_code == 201
    response = served.client.post("/v1/threads", json=new, headers=OLGA)
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_thread_detail_has_the_transcript(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    send(served.client, thread_id, "list pods in payments", ALICE)
    detail = served.client.get(f"/v1/threads/{thread_id}", headers=ALICE).json()
    roles = [m["role"] for m in detail["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert detail["messages"][1]["tool_calls"][0]["name"] == "list_pods"
    assert detail["messages"][2]["content"] == "payments: web-1 Running"
    assert "web-1 Running" in detail["messages"][3]["content"]
    assert detail["status"] == "idle"


def test_list_is_newest_first_and_limited(served: Served) -> None:
    first = new_thread(served.client, ALICE, "first")
    second = new_thread(served.client, ALICE, "second")
    send(served.client, first, "list pods", ALICE)  # touching a thread moves it to the top
    listed = [t["thread_id"] for t in served.client.get("/v1/threads", headers=ALICE).json()]
    assert listed == [first, second]
    one = served.client.get("/v1/threads", params={"limit": 1}, headers=ALICE).json()
    assert [t["thread_id"] for t in one] == [first]
