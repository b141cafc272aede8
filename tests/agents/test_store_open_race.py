"""Processes that open one fresh SQLite store at the same moment all open it (servers started together,
or a CLI run beside a server): switching a new file to WAL answers `database is locked` at once, without
the busy timeout, so the store must wait for its turn itself. Real processes on a real file."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from agents.store import open_store


def _open_at(url: str, start: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    while time.time() < start:  # all processes reach `open_store` together
        pass
    try:
        store = open_store(url)
        store.touch_thread("t", "alice", "title", "idle")
        store.close()
        results.put("ok")
    except Exception as exc:  # what failed is the result
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_fresh_store_together_all_open_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")  # forked after the imports: they start together
    failures = []
    for round_ in range(6):  # before the fix, about half the rounds of four lost one process
        url = f"sqlite:///{tmp_path / f'round{round_}.sqlite'}"
        results = context.Queue()
        start = time.time() + 0.5
        racers = [context.Process(target=_open_at, args=(url, start, results)) for _ in range(4)]
        for racer in racers:
            racer.start()
        outcomes = [results.get(timeout=60) for _ in racers]
        for racer in racers:
            racer.join(timeout=10)
        failures += [o for o in outcomes if o != "ok"]
    assert failures == []
