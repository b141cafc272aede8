"""A paused run survives the process: a fresh graph on the same database picks up the approval."""

from __future__ import annotations

from pathlib import Path

from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from opsgraph.settings import Settings
from tests.agents.recording_tools import RecordingCluster


def test_fresh_graph_on_the_same_sqlite_file_resumes(tmp_path: Path) -> None:
    settings = Settings(checkpoint_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    cluster = RecordingCluster()
    with Runtime(settings, tools=cluster.tools()) as first:
        assert first.run("scale deploy web to 5 in shop", thread_id="t1").status == "interrupted"

    with Runtime(settings, tools=cluster.tools()) as second:
        pending = second.pending("t1")
        assert pending is not None and pending.args["replicas"] == 5
        result = second.resume("t1", ApprovalDecision(decision="approve"))
        assert result.status == "done"
        assert cluster.replicas["shop/web"] == 5
        assert [e.decision for e in second.store.audit("t1")] == ["approved"]
