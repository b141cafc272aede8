"""A run whose process is killed (SIGKILL) mid-call: its thread is found, shown as interrupted with the
reason, and continues from its last checkpoint. A killed approved write is never repeated blindly: the
change is previewed and asked for again. Real processes on a real SQLite file or Postgres database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.events import FinalEvent, InterruptEvent
from agents.gate import ApprovalDecision
from agents.runtime import ApprovalClaimedError, Runtime
from agents.store import Store, open_store
from opsgraph.settings import Settings
from tests.agents.recording_tools import RecordingCluster

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("OPSGRAPH_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgres"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database two processes can share (the memory store cannot)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'checkpoints.sqlite'}"
    if not POSTGRES_URL:
        pytest.skip("Postgres: set OPSGRAPH_TEST_POSTGRES_URL to run (.ci/run does)")
    return POSTGRES_URL


@pytest.fixture
def store(shared_url: str) -> Iterator[Store]:
    s = open_store(shared_url)
    yield s
    s.close()


def _start(url: str, thread_id: str, mode: str, marker: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.agents.crash_worker", url, thread_id, mode, str(marker)]
    return subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)


def _kill_mid_call(proc: subprocess.Popen[str], marker: Path) -> None:
    """Wait until the process is inside the tool call, then SIGKILL it (and reap it)."""
    deadline = time.monotonic() + 90
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(
                f"the worker ended before its tool call: {proc.stderr.read() if proc.stderr else ''}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the worker never reached its tool call")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    if proc.stderr:
        proc.stderr.close()


def test_a_run_killed_mid_call_is_interrupted_with_the_reason_and_continues(
    shared_url: str, store: Store, tmp_path: Path, thread_id: str
) -> None:
    marker = tmp_path / "in-call"
    proc = _start(shared_url, thread_id, "read", marker)
    _kill_mid_call(proc, marker)
    info = store.thread(thread_id)
    assert info is not None and info.status == "interrupted"
    assert info.reason is not None and f"process {proc.pid} on " in info.reason
    cluster = RecordingCluster()
    with Runtime(Settings(checkpoint_url=shared_url), tools=cluster.tools()) as runtime:
        stopped = runtime.result(thread_id)
        assert (stopped.status, stopped.approval) == ("interrupted", None)
        assert stopped.reason == info.reason
        events = list(runtime.stream_continue(thread_id))
        assert isinstance(events[-1], FinalEvent) and events[-1].status == "done"
        assert "payments: web-1 Running" in events[-1].answer
    assert cluster.calls == [("list_pods", {"namespace": "payments"})]  # the lost step ran again, once
    after = store.thread(thread_id)
    assert after is not None and (after.status, after.reason) == ("idle", None)


def test_an_approved_write_killed_mid_call_is_asked_again_never_repeated_blindly(
    shared_url: str, store: Store, tmp_path: Path, thread_id: str
) -> None:
    cluster = RecordingCluster()
    with Runtime(Settings(checkpoint_url=shared_url), tools=cluster.tools()) as runtime:
        first = runtime.run("scale deploy web to 3 in shop", thread_id=thread_id)
        assert first.approval is not None
        marker = tmp_path / "in-call"
        proc = _start(shared_url, thread_id, "approve", marker)
        try:
            deadline = time.monotonic() + 90
            while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            # while the worker carries the approval out, nobody else can answer it
            with pytest.raises(ApprovalClaimedError, match="already answered"):
                list(runtime.stream_resume(thread_id, ApprovalDecision(decision="approve")))
        finally:
            _kill_mid_call(proc, marker)
        info = store.thread(thread_id)
        assert (
            info is not None and info.status == "interrupted" and f"process {proc.pid}" in (info.reason or "")
        )
        assert runtime.pending(thread_id) is None  # the killed approval cannot be answered again
        events = list(runtime.stream_continue(thread_id))
        [asked] = [e for e in events if isinstance(e, InterruptEvent)]
        assert asked.approval.id != first.approval.id
        assert "unknown" in (asked.approval.reason or "")
        assert cluster.calls == []  # previewed again, not executed again
        done = runtime.resume(thread_id, ApprovalDecision(decision="approve", user="carol"))
        assert done.status == "done"
    assert cluster.calls == [("scale_deployment", {"name": "web", "replicas": 3, "namespace": "shop"})]
    audit = store.audit(thread_id)
    assert [(a.status, a.approval_id) for a in audit] == [
        ("unknown", first.approval.id),
        ("ok", asked.approval.id),
    ]
    outcomes = {a.id: a.outcome for a in store.approvals(thread_id)}
    assert outcomes == {first.approval.id: "unknown", asked.approval.id: "ok"}


def test_a_new_message_after_a_killed_write_records_its_outcome_as_unknown(
    tmp_path: Path, thread_id: str
) -> None:
    url = f"sqlite:///{tmp_path / 'checkpoints.sqlite'}"
    cluster = RecordingCluster()
    with Runtime(Settings(checkpoint_url=url), tools=cluster.tools()) as runtime:
        first = runtime.run("scale deploy web to 3 in shop", thread_id=thread_id)
        assert first.approval is not None
        marker = tmp_path / "in-call"
        _kill_mid_call(_start(url, thread_id, "approve", marker), marker)
        moved_on = runtime.run("list pods in shop", thread_id=thread_id)
        assert moved_on.status == "done" and "shop: web-1 Running" in (moved_on.answer or "")
        [unknown] = runtime.audit(thread_id)[:1]
        assert (unknown.status, unknown.approval_id, unknown.tool) == (
            "unknown",
            first.approval.id,
            "scale_deployment",
        )
        assert "whether scale_deployment was carried out is unknown" in unknown.result
        assert [(a.outcome) for a in runtime.store.approvals(thread_id)] == ["unknown"]
    assert cluster.calls == [("list_pods", {"namespace": "shop"})]
