"""POST /v1/threads/{id}/messages streams the run as Server-Sent Events, in order."""

from __future__ import annotations

from tests.server.conftest import ALICE, Served, new_thread, send, sse


def test_read_request_streams_start_route_call_result_tokens_final(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    response = send(served.client, thread_id, "list pods in payments", ALICE)
    assert response.status_code == 200
    events = sse(response)
    kinds = [e["type"] for e in events]
    assert kinds[:4] == ["start", "route", "tool_call", "tool_result"]
    assert kinds[-1] == "final"
    assert set(kinds[4:-1]) == {"token"}
    assert [e["_event"] for e in events] == kinds  # the SSE event name is the type
    assert [int(e["_id"]) for e in events] == list(range(1, len(events) + 1))
    assert events[0]["thread_id"] == thread_id and events[0]["queued"] == 0  # nothing else runs
    assert events[1]["agents"] == ["kubernetes"]
    assert events[2]["tool"] == "list_pods"
    assert events[2]["args"] == {"namespace": "payments"}
    assert "".join(e["text"] for e in events if e["type"] == "token") == events[-1]["answer"]
    assert events[-1]["thread_id"] == thread_id


def test_mutating_request_stops_at_one_interrupt_with_the_preview(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    events = sse(send(served.client, thread_id, "scale deploy web to 3 in shop", ALICE))
    assert [e["type"] for e in events] == ["start", "route", "tool_call", "interrupt"]
    approval = events[-1]["approval"]
    assert approval["tool"] == "scale_deployment"
    assert approval["preview"] == {"diff": "spec.replicas: 1 -> 3"}
    assert served.cluster.replicas["shop/web"] == 1
    detail = served.client.get(f"/v1/threads/{thread_id}", headers=ALICE).json()
    assert detail["status"] == "interrupted"
    assert detail["pending"]["args"] == {"name": "web", "replicas": 3, "namespace": "shop"}


def test_a_new_message_while_an_approval_waits_is_a_conflict(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    send(served.client, thread_id, "scale deploy web to 3 in shop", ALICE)
    response = send(served.client, thread_id, "list pods", ALICE)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "/approvals" in response.json()["detail"]


def test_a_thread_keeps_its_context_across_messages(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    send(served.client, thread_id, "list pods in payments", ALICE)
    send(served.client, thread_id, "list pods in shop", ALICE)
    detail = served.client.get(f"/v1/threads/{thread_id}", headers=ALICE).json()
    asked = [m["content"] for m in detail["messages"] if m["role"] == "user"]
    assert asked == ["list pods in payments", "list pods in shop"]
