"""One sandbox per data directory, shared by real opsgraph processes (`opsgraph.sandbox_registry`).

Every test runs the real CLI in subprocesses over the test's data directory (the conftest stops whatever
sandbox a test leaves): a chat and an `ask --yes` at once, two first starts at once, start-ups that fail,
a second sandbox on the same state, and a `kill -9` of the sandbox under a running `opsgraph serve`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from opsgraph.sandbox_registry import SandboxRecord, SandboxRegistry

OPSGRAPH = [sys.executable, "-m", "opsgraph"]


@pytest.fixture
def registry(tmp_path: Path) -> SandboxRegistry:
    return SandboxRegistry(tmp_path / "data" / "sandbox")  # the conftest's OPSGRAPH_DATA_DIR


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OPSGRAPH, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout
    )


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def sandboxes_of(registry: SandboxRegistry) -> list[int]:
    """The pids of live `python -m sandbox` processes whose record is this registry's."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            state = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"sandbox" in argv and str(registry.record_path).encode() in argv and state != "Z":
            found.append(int(cmdline.parent.name))
    return found


def replicas(record: SandboxRecord, name: str = "frontend", namespace: str = "shop") -> int:
    from kubernetes import client, config

    api = config.new_client_from_config(str(record.kubeconfig))  # type: ignore[no-untyped-call]
    try:
        deployment = client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
        return int(deployment.spec.replicas)
    finally:
        api.close()


def test_a_chat_and_an_ask_share_one_sandbox_and_the_approved_change_outlives_both(
    registry: SandboxRegistry,
) -> None:
    chat = subprocess.Popen(
        [*OPSGRAPH, "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first: SandboxRecord = wait_for(registry.read, "the chat to start the sandbox")
        asked = run("ask", "scale deploy frontend to 5 in shop", "--yes")
        assert asked.returncode == 0, asked.stderr
        assert registry.read() == first  # the ask reused the chat's sandbox
        assert replicas(first) == 5
        out, err = chat.communicate("list pods in shop\nexit\n", timeout=120)
        assert chat.returncode == 0, err
        assert "frontend-" in out
    finally:
        if chat.poll() is None:
            chat.kill()
            chat.wait()
    assert sandboxes_of(registry) == [first.pid]  # one sandbox served both, and it still runs
    assert replicas(first) == 5  # the chat's exit saved nothing over it
    assert registry.stop() == first
    assert sandboxes_of(registry) == []
    second, started = registry.ensure()
    assert started and second.pid != first.pid
    assert replicas(second) == 5  # the state was saved and loaded again


def test_two_first_starts_at_once_start_one_sandbox(registry: SandboxRegistry) -> None:
    starts = [subprocess.Popen([*OPSGRAPH, "sandbox"], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=120)[0] for proc in starts]
    assert [proc.returncode for proc in starts] == [0, 0]
    assert sorted(out.split(":")[0] for out in outputs) == ["sandbox already running", "sandbox started"]
    record = registry.read()
    assert record is not None and all(f"pid {record.pid}," in out for out in outputs)
    assert sandboxes_of(registry) == [record.pid]


def test_status_and_stop(registry: SandboxRegistry) -> None:
    none = run("sandbox", "status")
    assert (none.returncode, none.stdout.strip()) == (3, "no sandbox is running")
    assert run("sandbox", "stop").stdout.strip() == "no sandbox is running"
    assert run("sandbox", "--scenario", "empty").returncode == 0
    status = run("sandbox", "status", "--json")
    assert status.returncode == 0
    shown = json.loads(status.stdout)
    assert shown["running"] is True and shown["record"]["scenario"] == "empty"
    assert "token" not in shown["record"]
    record = registry.read()
    assert record is not None
    os.kill(record.pid, signal.SIGKILL)
    wait_for(lambda: not sandboxes_of(registry), "the sandbox to die")
    died = run("sandbox", "status")
    assert died.returncode == 3 and "has died" in died.stdout


@pytest.mark.parametrize(
    "settings",
    [
        {"model": "nosuch:model"},
        {"model": "openai:gpt-4o-mini"},  # no key
        {"checkpoint_url": "postgresql://opsgraph@127.0.0.1:9/none"},  # nothing listens there
    ],
    ids=["bad-model-name", "missing-key", "unreachable-postgres"],
)
def test_a_failed_start_up_starts_no_sandbox(registry: SandboxRegistry, settings: dict[str, str]) -> None:
    from opsgraph.sdk import Assistant
    from opsgraph.settings import Settings

    with pytest.raises(Exception) as failed:
        Assistant(Settings(**settings))
    assert type(failed.value).__name__ in ("ModelConfigError", "StoreError")
    assert registry.read() is None and not registry.folder.exists()
    assert sandboxes_of(registry) == []


def test_serve_refusing_to_start_starts_no_sandbox(
    registry: SandboxRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from opsgraph.cli import app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        in_use = CliRunner().invoke(app, ["serve", "--port", str(taken.getsockname()[1])])
    assert in_use.exit_code == 1
    assert "error: cannot listen on 127.0.0.1:" in in_use.output
    monkeypatch.setenv("OPSGRAPH_SLACK_USERS", ",")
    monkeypatch.setenv("OPSGRAPH_SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("OPSGRAPH_SLACK_SIGNING_SECRET", "s")
    bad_users = CliRunner().invoke(app, ["serve", "--port", "21402"])
    assert bad_users.exit_code == 1
    assert "error: OPSGRAPH_SLACK_USERS: names no token" in bad_users.output
    assert registry.read() is None and sandboxes_of(registry) == []


def test_a_second_sandbox_on_the_same_state_refuses_to_start(
    registry: SandboxRegistry, tmp_path: Path
) -> None:
    record, started = registry.ensure()
    assert started
    second = subprocess.run(
        [sys.executable, "-m", "sandbox", "--kubeconfig", str(tmp_path / "k"), "--state", str(registry.state)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert second.returncode == 1
    assert f"is in use by the sandbox of pid {record.pid}" in second.stderr
    assert sandboxes_of(registry) == [record.pid]


def _chat_over_http(url: str, text: str, approve: bool = False) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60) as client:
        thread = client.post("/v1/threads", json={}).json()["thread_id"]
        events = _events(client.post(f"/v1/threads/{thread}/messages", json={"text": text}))
        if approve:
            assert events[-1]["type"] == "interrupt", events[-1]
            events = _events(client.post(f"/v1/threads/{thread}/approvals", json={"decision": "approve"}))
    assert events[-1]["type"] == "final", events[-1]
    return events[-1]


def _events(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]


def test_a_running_server_reconnects_to_a_sandbox_restarted_after_kill_9(registry: SandboxRegistry) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen(
        [*OPSGRAPH, "serve", "--port", str(port), "--run-processes", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: _healthy(url), "the server to answer", timeout=120)
        before = registry.read()
        assert before is not None
        _chat_over_http(url, "scale deploy frontend to 4 in shop", approve=True)
        assert replicas(before) == 4
        time.sleep(1.5)  # the sandbox saves its state within a second of a change
        os.kill(before.pid, signal.SIGKILL)
        after: SandboxRecord = wait_for(
            lambda: (r := registry.read()) is not None and r.pid != before.pid and r,
            "the server to restart it",
        )
        answer = _chat_over_http(url, "list pods in shop")["answer"]
        assert answer.count("frontend-") == 4  # the restarted sandbox has the approved change
        assert serve.poll() is None  # the same server process, never restarted
        assert sandboxes_of(registry) == [after.pid]
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(30) == 0
        assert sandboxes_of(registry) == [after.pid]  # it outlives the server, for the other processes
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
