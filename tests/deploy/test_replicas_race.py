"""Two replicas of deploy/'s Deployment (the write overlay's configuration: its command line, ConfigMap,
Secret tokens, the ServiceAccount's write profile) starting together on one fresh Postgres database: the
same approval sent to both at the same instant, for 12 threads. One answer runs the change, the other gets
409; the audit and the cluster's own request log each count one execution per approval. (On a fresh
database the two used to race LangGraph's migrations and one exited: agents/store.py takes turns.)"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

from tests.deploy.replicas_race import run_replica_race

POSTGRES_URL = os.environ.get("OPSGRAPH_TEST_POSTGRES_URL")


@pytest.fixture
def fresh_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("Postgres: set OPSGRAPH_TEST_POSTGRES_URL to run (.ci/run does)")
    import psycopg

    name = f"opsgraph_replicas_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgres
@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
def test_two_replicas_on_one_postgres_execute_each_approval_once(fresh_database: str) -> None:
    result = run_replica_race(fresh_database, threads=12)
    print(result.summary())
    assert result.statuses == {"200+409": 12}, result.summary()
    assert set(result.audited.values()) == {1}, result.summary()
    assert set(result.cluster_writes.values()) == {1}, result.summary()
