"""Suite-wide guards: no real model calls, no network beyond loopback, no user settings leaking in."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["sandbox.testing", "agents.models.local_testing"]

_real_connect = socket.socket.connect


@pytest.fixture(scope="session")
def fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One process with the project imported, from which the CLI tests and the docs runner fork their
    `opsgraph` commands (tests/forkserver.py); it imports in the background: `wait_ready()` before use."""
    from tests.forkserver import ForkServer

    folder = tmp_path_factory.mktemp("fork-server")
    # each command brings the test's own environment; the server's only matters to what reads it on import
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OPSGRAPH_", "KUBECONFIG"))}
    env.update({"HOME": str(folder / "home"), "OPSGRAPH_CONFIG_FILE": str(folder / "absent.toml")})
    with ForkServer(folder, env) as server:
        yield server


def _loopback_only(self: socket.socket, address: Any) -> Any:
    if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise ConnectionRefusedError(f"tests may only reach loopback, not {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own data dir and no API keys or cluster config from the developer's shell."""
    for var in (
        "OPENAI_API_KEY",
        "KUBECONFIG",
        "OPSGRAPH_MODEL",
        "OPSGRAPH_BASE_URL",
        "OPSGRAPH_API_KEY",
        "OPSGRAPH_CHECKPOINT_URL",
        "OPSGRAPH_KUBECONFIG",
        "OPSGRAPH_KUBE_CONTEXT",
        "OPSGRAPH_READ_ONLY",
        "OPSGRAPH_API_TOKENS",
        "OPSGRAPH_COST_PRICES",
        "OPSGRAPH_PROMETHEUS_URL",
        "OPSGRAPH_WORKSPACE",
        "OPSGRAPH_MAX_BODY_BYTES",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPSGRAPH_CONFIG_FILE", str(tmp_path / "absent-opsgraph.toml"))
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    yield
    _stop_shared_sandboxes(tmp_path)


def _stop_shared_sandboxes(tmp_path: Path) -> None:
    """The shared sandbox outlives the processes that start it (`opsgraph.sandbox_registry`): stop any that
    a test's data directory still has, so no test leaves one running."""
    records = [tmp_path / "sandbox" / "sandbox.json", *tmp_path.glob("*/sandbox/sandbox.json")]
    for record in {r for r in records if r.exists()}:
        from opsgraph.sandbox_registry import SandboxRegistry

        SandboxRegistry(record.parent).stop()
