"""A tool that fails is a failure everywhere: the audit (`error`, with its message), the run's status, the
final event. A preview whose dry run fails is the call's error, and nobody is asked to approve it."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from agents.events import FinalEvent, InterruptEvent
from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from agents.store import Store
from opsgraph.settings import Settings
from tools.base import mark_mutating


def _tools(fail: str) -> dict[str, list[BaseTool]]:
    """list_pods and scale_deployment that fail the way `fail` says: raise, or answer an error."""
    done: list[str] = []

    def list_pods(namespace: str = "default") -> str:
        """List the pods of a namespace."""
        if fail == "raise":
            raise ConnectionRefusedError(f"cannot reach the cluster to list {namespace}")
        if fail == "json":
            return '{"error": "forbidden: pods is forbidden for user bob", "pointer": ""}'
        return "error: 503 ServiceUnavailable: the API server is shutting down"

    def scale_deployment(name: str, replicas: int, namespace: str = "default") -> str:
        """Scale a deployment."""
        done.append(name)
        if fail == "raise":
            raise ConnectionRefusedError("[Errno 111] Connection refused")
        return f"error: 409 Conflict: the object {name} was modified (nothing was changed)"

    def preview(args: dict[str, Any]) -> dict[str, Any]:
        if args["name"] == "ghost":
            return {"summary": "scale_deployment would fail", "error": '404 NotFound: deployments "ghost"'}
        return {"diff": f"spec.replicas: 1 -> {args['replicas']}"}

    scale = mark_mutating(StructuredTool.from_function(scale_deployment), preview)
    return {"kubernetes": [StructuredTool.from_function(list_pods), scale], "iam": [], "cost": []}


def _runtime(store: Store, fail: str) -> Runtime:
    return Runtime(Settings(checkpoint_url="memory"), tools=_tools(fail), store=store)  # type: ignore[arg-type]


@pytest.mark.parametrize("fail", ["raise", "text", "json"])
def test_a_failed_read_is_audited_as_an_error_and_the_run_says_so(
    store: Store, thread_id: str, fail: str
) -> None:
    runtime = _runtime(store, fail)
    events = list(runtime.stream("list pods in payments", thread_id=thread_id))
    final = events[-1]
    assert isinstance(final, FinalEvent) and final.status == "error"
    result = runtime.result(thread_id)
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("list_pods: ")
    expected = {"raise": "Connection", "json": "forbidden", "text": "503 ServiceUnavailable"}[fail]
    assert expected in result.error
    [entry] = store.audit(thread_id)
    assert (entry.tool, entry.status) == ("list_pods", "error")
    assert expected in entry.result
    assert store.thread(thread_id).status == "error"  # type: ignore[union-attr]


@pytest.mark.parametrize("fail", ["raise", "text"])
def test_an_approved_write_that_fails_is_audited_error_not_ok(
    store: Store, thread_id: str, fail: str
) -> None:
    runtime = _runtime(store, fail)
    assert runtime.run("scale deploy web to 3 in shop", thread_id=thread_id).status == "interrupted"
    result = runtime.resume(thread_id, ApprovalDecision(decision="approve", user="carol"))
    assert result.status == "error"
    assert "scale_deployment: " in (result.error or "")
    [entry] = store.audit(thread_id)
    assert (entry.decision, entry.status, entry.approver) == ("approved", "error", "carol")
    assert ("Connection refused" if fail == "raise" else "409 Conflict") in entry.result
    [approval] = store.approvals(thread_id)
    assert (approval.status, approval.outcome) == ("done", "error")


def test_a_failed_dry_run_is_the_error_and_asks_nobody(store: Store, thread_id: str) -> None:
    runtime = _runtime(store, "text")
    events = list(runtime.stream("scale deploy ghost to 3 in shop", thread_id=thread_id))
    assert not [e for e in events if isinstance(e, InterruptEvent)]
    result = runtime.result(thread_id)
    assert result.status == "error" and result.approval is None
    assert "dry run of scale_deployment failed" in (result.error or "")
    assert "404 NotFound" in (result.error or "")
    [entry] = store.audit(thread_id)
    assert (entry.status, entry.decision) == ("error", "not_asked")
    assert store.approvals(thread_id) == []
