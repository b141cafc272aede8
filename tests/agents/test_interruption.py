"""The approval gate: interrupt → approve / reject / edit, on every checkpointer."""

from __future__ import annotations

from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from agents.store import Store
from opsgraph.settings import Settings
from tests.agents.recording_tools import RecordingCluster


def _runtime(store: Store, cluster: RecordingCluster, **settings: object) -> Runtime:
    return Runtime(Settings(checkpoint_url="memory", **settings), tools=cluster.tools(), store=store)


def test_mutating_call_pauses_with_a_preview(store: Store, thread_id: str) -> None:
    cluster = RecordingCluster()
    result = _runtime(store, cluster).run("scale deploy web to 3 in shop", thread_id=thread_id)
    assert result.status == "interrupted"
    assert result.approval is not None
    assert (result.approval.tool, result.approval.args) == (
        "scale_deployment",
        {"name": "web", "replicas": 3, "namespace": "shop"},
    )
    assert result.approval.preview == {"diff": "spec.replicas: 1 -> 3"}
    assert cluster.replicas["shop/web"] == 1
    assert store.audit(thread_id) == []


def test_approve_runs_the_call(store: Store, thread_id: str) -> None:
    cluster = RecordingCluster()
    runtime = _runtime(store, cluster)
    runtime.run("scale deploy web to 3 in shop", thread_id=thread_id)
    result = runtime.resume(thread_id, ApprovalDecision(decision="approve", user="carol"))
    assert result.status == "done"
    assert cluster.replicas["shop/web"] == 3
    assert "scaled to 3" in (result.answer or "")
    [entry] = store.audit(thread_id)
    assert (entry.decision, entry.status, entry.approver) == ("approved", "ok", "carol")


def test_reject_changes_nothing(store: Store, thread_id: str) -> None:
    cluster = RecordingCluster()
    runtime = _runtime(store, cluster)
    runtime.run("scale deploy web to 3 in shop", thread_id=thread_id)
    result = runtime.resume(thread_id, ApprovalDecision(decision="reject", comment="not during the sale"))
    assert result.status == "done"
    assert cluster.replicas["shop/web"] == 1
    assert [c for c, _ in cluster.calls] == []
    assert "rejected" in (result.answer or "")
    [entry] = store.audit(thread_id)
    assert (entry.decision, entry.status) == ("rejected", "rejected")
    assert "not during the sale" in entry.result


def test_edit_is_previewed_and_asked_again_before_it_runs(store: Store, thread_id: str) -> None:
    cluster = RecordingCluster()
    runtime = _runtime(store, cluster)
    first = runtime.run("scale deploy web to 30 in shop", thread_id=thread_id)
    again = runtime.resume(thread_id, ApprovalDecision(decision="edit", args={"replicas": 4}))
    assert again.status == "interrupted" and again.approval is not None and first.approval is not None
    assert again.approval.args["replicas"] == 4 and again.approval.id != first.approval.id
    assert again.approval.preview == {"diff": "spec.replicas: 1 -> 4"}  # a new dry run of the edited call
    assert "edited" in (again.approval.reason or "")
    assert cluster.replicas["shop/web"] == 1 and store.audit(thread_id) == []
    done = runtime.resume(thread_id, ApprovalDecision(decision="approve"))
    assert done.status == "done"
    assert cluster.replicas["shop/web"] == 4
    [entry] = store.audit(thread_id)
    assert (entry.decision, entry.args["replicas"], entry.approval_id) == ("edited", 4, again.approval.id)


def test_read_only_refuses_without_asking(store: Store, thread_id: str) -> None:
    cluster = RecordingCluster()
    result = _runtime(store, cluster, read_only=True).run(
        "scale deploy web to 3 in shop", thread_id=thread_id
    )
    assert result.status == "done"
    assert "read-only" in (result.answer or "")
    assert cluster.replicas["shop/web"] == 1
    [entry] = store.audit(thread_id)
    assert (entry.status, entry.decision) == ("refused", "refused")


def test_reads_run_without_approval(store: Store, thread_id: str) -> None:
    cluster = RecordingCluster()
    result = _runtime(store, cluster).run("list pods in payments", thread_id=thread_id)
    assert result.status == "done"
    assert result.route == ["kubernetes"]
    assert "payments: web-1 Running" in (result.answer or "")


def test_the_stream_carries_one_interrupt_event_per_pause(store: Store, thread_id: str) -> None:
    from agents.events import InterruptEvent

    runtime = _runtime(store, RecordingCluster())
    events = list(runtime.stream("scale deploy web to 3 in shop", thread_id=thread_id))
    interrupts = [e for e in events if isinstance(e, InterruptEvent)]
    assert len(interrupts) == 1
    assert interrupts[0].approval.tool == "scale_deployment"
