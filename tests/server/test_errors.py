"""Malformed requests get a JSON problem object that says what is wrong and where."""

from __future__ import annotations

from tests.server.conftest import ALICE, Served, new_thread

PROBLEM = "application/problem+json"


def test_malformed_json_body(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    response = served.client.post(
        f"/v1/threads/{thread_id}/messages",
        content=b'{"text": "list pods',
        headers={**ALICE, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Unprocessable Entity"
    assert "JSON" in problem["detail"]


def test_missing_and_unknown_fields_are_named_by_pointer(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    response = served.client.post(f"/v1/threads/{thread_id}/messages", json={"txt": "hi"}, headers=ALICE)
    assert response.status_code == 422
    pointers = {e["pointer"]: e["message"] for e in response.json()["errors"]}
    assert pointers["/body/text"] == "Field required"
    assert "Extra inputs" in pointers["/body/txt"]
    assert response.json()["detail"].startswith("/body/text")


def test_empty_text_and_bad_decisions(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    empty = served.client.post(f"/v1/threads/{thread_id}/messages", json={"text": ""}, headers=ALICE)
    assert empty.status_code == 422
    edit = served.client.post(f"/v1/threads/{thread_id}/approvals", json={"decision": "edit"}, headers=ALICE)
    assert edit.status_code == 422
    assert "needs `args`" in edit.json()["detail"]
    maybe = served.client.post(
        f"/v1/threads/{thread_id}/approvals", json={"decision": "maybe"}, headers=ALICE
    )
    assert maybe.json()["errors"][0]["pointer"] == "/body/decision"


def test_bad_thread_id_and_unknown_route(served: Served) -> None:
    bad = served.client.post("/v1/threads", json={"thread_id": "../etc"}, headers=ALICE)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/body/thread_id"
    unknown = served.client.get("/v1/nothing-here", headers=ALICE)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
