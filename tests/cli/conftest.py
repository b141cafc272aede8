"""The CLI tests' warm start: `run` forks `opsgraph` from one process with the project imported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import test_cli
from tests.forkserver import ForkServer


@pytest.fixture
def warm_cli(fork_server: ForkServer) -> Iterator[Path]:
    """While a test runs, tests/cli/test_cli.py's `run` starts `opsgraph` warm (tests/forkserver.py)."""
    fork_server.wait_ready()
    client = fork_server.bin / "opsgraph"
    test_cli.WARM[:] = [client]
    try:
        yield client
    finally:
        test_cli.WARM.clear()
