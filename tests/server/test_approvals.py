"""POST /v1/threads/{id}/approvals: approve, reject and edit resume the run and stream it."""

from __future__ import annotations

from tests.server.conftest import ALICE, OLGA, RITA, Served, decide, new_thread, send, sse


def _paused(served: Served, headers: dict[str, str], text: str = "scale deploy web to 3 in shop") -> str:
    thread_id = new_thread(served.client, headers)
    assert sse(send(served.client, thread_id, text, headers))[-1]["type"] == "interrupt"
    return thread_id


def test_approve_applies_the_change_and_streams_the_answer(served: Served) -> None:
    thread_id = _paused(served, OLGA)
    events = sse(decide(served.client, thread_id, OLGA, decision="approve", comment="ok for the sale"))
    assert [e["type"] for e in events[:2]] == ["start", "tool_result"]
    assert events[1]["content"] == "deployment shop/web scaled to 3"
    assert events[-1]["type"] == "final"
    assert served.cluster.replicas["shop/web"] == 3
    [entry] = served.client.get(f"/v1/threads/{thread_id}/audit", headers=OLGA).json()
    assert (entry["decision"], entry["approver"], entry["actor"]) == ("approved", "olga", "olga")
    assert served.client.get(f"/v1/threads/{thread_id}", headers=OLGA).json()["pending"] is None


def test_reject_changes_nothing(served: Served) -> None:
    thread_id = _paused(served, ALICE)
    events = sse(decide(served.client, thread_id, ALICE, decision="reject", comment="not now"))
    assert events[-1]["type"] == "final"
    assert "rejected" in events[-1]["answer"]
    assert served.cluster.replicas["shop/web"] == 1
    [entry] = served.client.get(f"/v1/threads/{thread_id}/audit", headers=ALICE).json()
    assert entry["decision"] == "rejected"


def test_edit_is_previewed_and_asked_again_then_runs(served: Served) -> None:
    thread_id = _paused(served, ALICE, "scale deploy web to 30 in shop")
    events = sse(decide(served.client, thread_id, ALICE, decision="edit", args={"replicas": 4}))
    assert events[-1]["type"] == "interrupt"  # a new dry run of the edited call, asked again
    assert events[-1]["approval"]["args"]["replicas"] == 4
    assert events[-1]["approval"]["preview"] == {"diff": "spec.replicas: 1 -> 4"}
    assert served.cluster.replicas["shop/web"] == 1
    events = sse(decide(served.client, thread_id, ALICE, decision="approve"))
    assert events[-1]["type"] == "final"
    assert served.cluster.replicas["shop/web"] == 4


def test_no_pending_approval_is_a_conflict(served: Served) -> None:
    thread_id = new_thread(served.client, ALICE)
    response = decide(served.client, thread_id, ALICE, decision="approve")
    assert response.status_code == 409
    assert "no pending approval" in response.json()["detail"]


def test_readonly_role_cannot_approve(served: Served) -> None:
    thread_id = _paused(served, ALICE)
    response = decide(served.client, thread_id, RITA, decision="approve")
    assert response.status_code == 404  # not hers: the role check never reveals the thread
    own = new_thread(served.client, RITA)
    response = decide(served.client, own, RITA, decision="approve")
    assert response.status_code == 403
    assert "readonly" in response.json()["detail"]
    assert served.cluster.replicas["shop/web"] == 1


def test_readonly_role_runs_no_mutating_tool(served: Served) -> None:
    thread_id = new_thread(served.client, RITA)
    events = sse(send(served.client, thread_id, "scale deploy web to 3 in shop", RITA))
    assert "interrupt" not in [e["type"] for e in events]
    assert "read-only" in events[-1]["answer"]
    assert served.cluster.replicas["shop/web"] == 1
    [entry] = served.client.get(f"/v1/threads/{thread_id}/audit", headers=RITA).json()
    assert (entry["status"], entry["actor"]) == ("refused", "rita")
    me = served.client.get("/v1/me", headers=RITA).json()
    assert me.pop("cluster")  # what the approval cards name
    assert me == {"user": "rita", "role": "readonly", "can_approve": False, "read_only": True}


def test_readonly_role_may_still_read(served: Served) -> None:
    thread_id = new_thread(served.client, RITA)
    events = sse(send(served.client, thread_id, "list pods in payments", RITA))
    assert events[-1]["type"] == "final"
    assert ("list_pods", {"namespace": "payments"}) in served.cluster.calls
