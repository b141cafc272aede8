"""`/v1/threads`: create, list, read."""

from __future__ import annotations

from server.threads import owned_id
from tests.server.conftest import ALICE, OLGA, Served, new_thread, send


def test_create_then_list_and_read(served: Served) -> None:
    client = served.client
    response = client.post("/v1/threads", json={"title": "payments", "thread_id": "pay-1"}, headers=ALICE)
    assert response.status_code == 201
    thread_id = response.json()["thread_id"]
    assert thread_id == owned_id("pay-1", "alice") and thread_id.startswith("pay-1.")
    assert response.json()["status"] == "idle"
    [listed] = client.get("/v1/threads", headers=ALICE).json()
    assert (listed["thread_id"], listed["title"]) == (thread_id, "payments")
    detail = client.get(f"/v1/threads/{thread_id}", headers=ALICE).json()
    assert detail["messages"] == []
    assert detail["pending"] is None


def test_fresh_ids_are_unique(served: Served) -> None:
    ids = {new_thread(served.client, ALICE) for _ in range(3)}
    assert len(ids) == 3


def test_choosing_your_own_id_twice_is_a_conflict(served: Served) -> None:
    new = {"thread_id": "dup-1"}
    assert served.client.post("/v1/threads", json=new, headers=ALICE).status_code == 201
    response = served.client.post("/v1/threads", json=new, headers=ALICE)
    assert response.status_code == 409
    assert "you already have thread dup-1" in response.json()["detail"]


def test_choosing_another_users_id_reveals_nothing(served: Served) -> None:
    """Olga chooses the id Alice has, and one nobody has: the two answers differ only by the id she chose."""
    alices = served.client.post("/v1/threads", json={"thread_id": "taken-1"}, headers=ALICE).json()
    on_taken = served.client.post("/v1/threads", json={"thread_id": "taken-1"}, headers=OLGA)
    on_free = served.client.post("/v1/threads", json={"thread_id": "free-1"}, headers=OLGA)
    assert on_taken.status_code == on_free.status_code == 201
    taken, free = on_taken.json(), on_free.json()
    assert taken["thread_id"] == owned_id("taken-1", "olga") != alices["thread_id"]
    assert free["thread_id"] == owned_id("free-1", "olga")
    assert taken.keys() == free.keys() and taken["status"] == free["status"] == "idle"
    # and each has their own thread under the id they chose
    assert served.client.get(f"/v1/threads/{alices['thread_id']}", headers=OLGA).status_code == 404
    assert served.client.get(f"/v1/threads/{taken['thread_id']}", headers=ALICE).status_code == 404
    assert served.client.get(f"/v1/threads/{taken['thread_id']}", headers=OLGA).status_code == 200


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
