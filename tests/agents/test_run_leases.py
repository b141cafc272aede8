"""Who runs a thread, and who decides an approval, on every store: one winner of any race; a run whose
process is gone (pid on this host, or an expired lease from another host) is found and taken over."""

from __future__ import annotations

import threading
import time

from agents.leases import LEASE_S, new_token
from agents.store import Store


def _thread(store: Store, thread_id: str) -> None:
    store.touch_thread(thread_id, "alice", "t", "idle")


def _race(count: int, attempt: object) -> list[object]:
    barrier, results = threading.Barrier(count), [None] * count

    def go(n: int) -> None:
        barrier.wait()
        results[n] = attempt()  # type: ignore[operator]

    racers = [threading.Thread(target=go, args=(n,)) for n in range(count)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    return list(results)


def test_one_of_many_runs_gets_the_thread(store: Store, thread_id: str) -> None:
    _thread(store, thread_id)
    started = _race(8, lambda: store.begin_run(thread_id, new_token()).started)
    assert started.count(True) == 1
    assert store.thread(thread_id).status == "running"  # type: ignore[union-attr]


def test_one_of_many_decisions_claims_the_approval(store: Store, thread_id: str) -> None:
    _thread(store, thread_id)
    approval = f"{thread_id}-a1"
    store.add_approval(approval, thread_id, {"tool": "scale_deployment"})
    outcomes = _race(
        8, lambda: store.claim_approval(approval, thread_id, {"decision": "approve"}, "bob", new_token())
    )
    assert sorted(outcomes) == ["claimed"] + ["decided"] * 7  # type: ignore[type-var]
    assert store.start_execution(approval, new_token(), {}) is True
    assert store.start_execution(approval, new_token(), {}) is False  # the call runs once, ever


def test_a_run_on_another_host_is_dead_when_its_lease_runs_out(store: Store, thread_id: str) -> None:
    _thread(store, thread_id)
    far = "4242@another-host/abc"
    assert store.begin_run(thread_id, far).started
    assert store.thread(thread_id).status == "running"  # type: ignore[union-attr]
    assert not store.begin_run(thread_id, new_token()).started  # its lease still runs
    store._sql.execute(  # the other host went quiet LEASE_S ago
        "UPDATE opsgraph_threads SET lease_until = ? WHERE thread_id = ?", (time.time() - 1, thread_id)
    )
    info = store.thread(thread_id)
    assert info is not None and info.status == "interrupted"
    assert info.reason is not None and "process 4242 on another-host" in info.reason
    start = store.begin_run(thread_id, new_token())
    assert start.started and start.recovered == info.reason
    assert LEASE_S > 0


def test_a_claim_whose_run_was_lost_is_open_again(store: Store, thread_id: str) -> None:
    _thread(store, thread_id)
    approval = f"{thread_id}-a2"
    store.add_approval(approval, thread_id, {"tool": "scale_deployment"})
    dead = "999999999@" + new_token().split("@", 1)[1]  # this host, a pid that does not exist
    assert store.claim_approval(approval, thread_id, {"decision": "approve"}, "bob", dead) == "claimed"
    store.touch_thread(thread_id, "alice", "t", "error")  # the server marks a run lost with its worker
    assert (
        store.claim_approval(approval, thread_id, {"decision": "reject"}, "carol", new_token()) == "claimed"
    )
    record = store.approval(approval)
    assert record is not None and (record.decided_by, record.decision) == ("carol", {"decision": "reject"})
