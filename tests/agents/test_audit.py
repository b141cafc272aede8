from __future__ import annotations

from agents.runtime import Runtime
from agents.store import Store
from opsgraph.settings import Settings
from tests.agents.recording_tools import RecordingCluster


def test_every_tool_call_of_a_multi_agent_run_is_audited(store: Store, thread_id: str) -> None:
    cluster = RecordingCluster()
    runtime = Runtime(Settings(checkpoint_url="memory", user="dana"), tools=cluster.tools(), store=store)
    result = runtime.run("list pods in payments and explain policy p.json", thread_id=thread_id)
    assert result.route == ["kubernetes", "iam"]
    assert result.answer is not None
    assert "[kubernetes]" in result.answer and "[iam]" in result.answer
    entries = store.audit(thread_id)
    assert [(e.agent, e.tool, e.args) for e in entries] == [
        ("kubernetes", "list_pods", {"namespace": "payments"}),
        ("iam", "explain_policy", {"policy": "p.json"}),
    ]
    for e in entries:
        assert (e.thread_id, e.actor, e.status, e.decision) == (thread_id, "dana", "ok", "auto")
        assert e.duration_ms >= 0 and e.at and e.result
    assert entries[1].result.startswith("p.json: allows")


def test_a_failing_tool_is_audited_as_an_error_and_explained(store: Store, thread_id: str) -> None:
    from langchain_core.tools import StructuredTool

    def list_pods(namespace: str = "default") -> str:
        """List pods."""
        raise ConnectionError("cluster unreachable")

    tools = {"kubernetes": [StructuredTool.from_function(list_pods)], "iam": [], "cost": []}
    runtime = Runtime(Settings(checkpoint_url="memory"), tools=tools, store=store)
    result = runtime.run("list pods", thread_id=thread_id)
    assert "cluster unreachable" in (result.answer or "")
    [entry] = store.audit(thread_id)
    assert entry.status == "error"
