"""One checkpointer fixture over memory, SQLite and Postgres, so each behaviour test runs on every backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.store import Store, open_store

POSTGRES_URL = os.environ.get("OPSGRAPH_TEST_POSTGRES_URL")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def checkpoint_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'checkpoints.sqlite'}"
    if not POSTGRES_URL:
        pytest.skip("Postgres checkpointer: set OPSGRAPH_TEST_POSTGRES_URL to run (.ci/run does)")
    return POSTGRES_URL


@pytest.fixture
def store(checkpoint_url: str) -> Iterator[Store]:
    s = open_store(checkpoint_url)
    yield s
    s.close()


@pytest.fixture
def thread_id() -> str:
    """Unique per test, so tests sharing one Postgres database never see each other's threads."""
    return f"t-{uuid.uuid4().hex}"
