"""Exactly once: the same approval sent to two `opsgraph serve` processes at the same instant, for 30
threads, on SQLite and on Postgres. One answer runs the change, the other gets 409; the audit and the
cluster's own request log each count one execution per approval. (Before the atomic claim: the write ran
twice in 25/30 threads on SQLite and 16/30 on Postgres.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.server.approval_race import run_race

POSTGRES_URL = os.environ.get("OPSGRAPH_TEST_POSTGRES_URL")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_servers_racing_30_approvals_execute_each_once(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'checkpoints.sqlite'}"
    elif POSTGRES_URL:
        url = POSTGRES_URL
    else:
        pytest.skip("Postgres: set OPSGRAPH_TEST_POSTGRES_URL to run (.ci/run does)")
    result = run_race(url, threads=30)
    print(result.summary())
    assert result.statuses == {"200+409": 30}, result.summary()
    assert set(result.audited.values()) == {1}, result.summary()
    assert set(result.cluster_writes.values()) == {1}, result.summary()
