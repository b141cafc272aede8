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


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_sigterm_stops_serve_and_the_sandbox_it_started(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OPSGRAPH_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        sandboxes = _children(proc.pid)
        assert sandboxes, "serve should have started the sandbox (no cluster is configured)"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        time.sleep(0.5)
        assert [pid for pid in sandboxes if os.path.exists(f"/proc/{pid}") and _alive(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
