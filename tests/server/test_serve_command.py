"""`opsgraph serve` and `opsgraph slack`: registered, documented, and clear about bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph import cli


def test_serve_and_slack_are_commands() -> None:
    result = CliRunner().invoke(cli.app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
    assert CliRunner().invoke(cli.app, ["slack", "--help"]).exit_code == 0


def test_serve_refuses_a_malformed_token_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_API_TOKENS", "t1=alice:superuser")
    result = CliRunner().invoke(cli.app, ["serve", "--port", "18999"])
    assert result.exit_code == 1
    assert "error: OPSGRAPH_API_TOKENS: api_tokens entry 1: unknown role 'superuser'" in result.output


def test_serve_refuses_a_token_setting_that_names_no_token(tmp_path: Path) -> None:
    """A real `opsgraph serve`: it stops before it listens, and before it starts anything (a sandbox)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OPSGRAPH_API_TOKENS": ",", "OPSGRAPH_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "opsgraph", "serve", "--host", "0.0.0.0", "--port", "21401"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "error: OPSGRAPH_API_TOKENS: api_tokens names no token" in done.stderr
    assert not (tmp_path / "sandbox").exists()


def test_serve_rejects_a_bad_port() -> None:
    assert CliRunner().invoke(cli.app, ["serve", "--port", "0"]).exit_code == 2


def test_slack_needs_its_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPSGRAPH_SLACK_BOT_TOKEN", "OPSGRAPH_SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli.app, ["slack"])
    assert result.exit_code == 1
    assert "set OPSGRAPH_SLACK_BOT_TOKEN and OPSGRAPH_SLACK_APP_TOKEN" in result.output


def test_sigterm_stops_serve_and_leaves_the_shared_sandbox(tmp_path: Path) -> None:
    """serve exits 0 on SIGTERM; the sandbox it started is the data directory's, which other opsgraph processes
    may use: it keeps running until `opsgraph sandbox stop`."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from opsgraph.sandbox_registry import SandboxRegistry

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OPSGRAPH_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve", "--port", str(port), "--run-processes", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    registry = SandboxRegistry(tmp_path / "sandbox")
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        record = registry.read()
        assert record is not None, "serve should have started the sandbox (no cluster is configured)"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert registry.status().serving and registry.read() == record
        stopped = subprocess.run(
            [sys.executable, "-m", "opsgraph", "sandbox", "stop"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert stopped.returncode == 0 and f"pid {record.pid}" in stopped.stdout
        assert not registry.status().alive
    finally:
        if proc.poll() is None:
            proc.kill()
