from __future__ import annotations

import pytest

from agents.runtime import PendingApprovalError, Runtime, ThreadNotFoundError
from agents.store import Store
from opsgraph.settings import Settings
from tests.agents.recording_tools import RecordingCluster


def _runtime(store: Store) -> Runtime:
    return Runtime(
        Settings(checkpoint_url="memory", user="alice"), tools=RecordingCluster().tools(), store=store
    )


def test_threads_belong_to_their_user(store: Store, thread_id: str) -> None:
    runtime = _runtime(store)
    runtime.run("list pods", thread_id=thread_id)
    assert thread_id in [t.thread_id for t in store.threads(owner="alice")]
    assert thread_id not in [t.thread_id for t in store.threads(owner="bob")]
    with pytest.raises(ThreadNotFoundError):
        runtime.run("list pods", thread_id=thread_id, user="bob")
    with pytest.raises(ThreadNotFoundError):
        runtime.history(thread_id, user="bob")


def test_a_pending_approval_blocks_new_messages(store: Store, thread_id: str) -> None:
    runtime = _runtime(store)
    runtime.run("scale deploy web to 3 in shop", thread_id=thread_id)
    assert store.thread(thread_id) is not None
    assert store.thread(thread_id).status == "interrupted"  # type: ignore[union-attr]
    with pytest.raises(PendingApprovalError):
        runtime.run("list pods", thread_id=thread_id)


def test_conversation_continues_on_the_same_thread(store: Store, thread_id: str) -> None:
    runtime = _runtime(store)
    runtime.run("list pods in a", thread_id=thread_id)
    second = runtime.run("list pods in b", thread_id=thread_id)
    assert "b: web-1" in (second.answer or "")
    humans = [m.text for m in runtime.messages(thread_id) if m.type == "human"]
    assert humans == ["list pods in a", "list pods in b"]


def test_replay_from_an_earlier_checkpoint_forks_history(store: Store, thread_id: str) -> None:
    runtime = _runtime(store)
    runtime.run("list pods in a", thread_id=thread_id)
    history = runtime.history(thread_id)
    assert history[0].next == []
    before_agent = next(c for c in history if c.next == ["kubernetes"])
    result = runtime.replay(thread_id, before_agent.checkpoint_id)
    assert result.status == "done" and "a: web-1" in (result.answer or "")
    assert len(runtime.history(thread_id)) > len(history)
    assert len(store.audit(thread_id)) == 2  # the replayed tool call is audited again
    with pytest.raises(ThreadNotFoundError):
        runtime.replay(thread_id, "no-such-checkpoint")
