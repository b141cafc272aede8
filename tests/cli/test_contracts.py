"""The command line's contracts: exit codes, thread ids, --version, approve --json, database URLs."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.store import POSTGRES_CONNECT_TIMEOUT_S, StoreError, open_store
from sandbox.testing import SandboxCluster
from tests.cli.test_cli import run
from tests.kubernetes.conftest import web  # noqa: F401 (a fixture: a Deployment `web` in a fresh namespace)

pytestmark = pytest.mark.usefixtures("warm_cli")  # `run` forks its commands warm (tests/forkserver.py)


def test_version_option() -> None:
    result = run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, "opsgraph 0.1.0")


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_request_is_a_usage_error(text: str) -> None:
    result = run("ask", text)
    assert result.returncode == 2
    assert "the request is empty" in result.stderr


def test_thread_ids_continue_or_start_but_never_guess(tmp_path: Path) -> None:
    unknown = run("ask", "write a haiku", "--thread", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: no thread nope (--new-thread nope starts one with that id)"
    assert json.loads(run("threads", "list", "--json").stdout) == []  # nothing was created

    started = run("ask", "write a haiku", "--new-thread", "mine", "--json")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["thread_id"] == "mine"
    again = run("ask", "write a haiku", "--new-thread", "mine")
    assert again.returncode == 1
    assert again.stderr.strip() == "error: thread mine already exists (--thread mine continues it)"
    continued = run("ask", "write a haiku", "--thread", "mine", "--json")
    assert continued.returncode == 0 and json.loads(continued.stdout)["thread_id"] == "mine"
    both = run("ask", "hi", "--thread", "a", "--new-thread", "b")
    assert both.returncode == 2


def test_a_change_waits_then_approve_json_reports_it(sandbox_cluster: SandboxCluster, web: str) -> None:  # noqa: F811
    env = {"KUBECONFIG": str(sandbox_cluster.kubeconfig)}
    asked = run("ask", f"scale deploy web to 3 in {web}", "--new-thread", "w", "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    waiting = json.loads(asked.stdout)
    assert waiting["status"] == "interrupted"
    assert "+  replicas: 3" in waiting["approval"]["preview"]["diff"]

    approved = run("approve", "w", "--json", env=env)
    assert approved.returncode == 0, approved.stderr
    done = json.loads(approved.stdout)
    assert done["status"] == "done" and "changed" in done["answer"]
    nothing = run("approve", "w", "--json", env=env)
    assert nothing.returncode == 1
    assert nothing.stderr.strip() == "error: thread w has no pending approval"


def test_a_failed_write_is_exit_1_and_status_error(sandbox_cluster: SandboxCluster, web: str) -> None:  # noqa: F811
    env = {"KUBECONFIG": str(sandbox_cluster.kubeconfig)}
    failed = run("ask", f"scale deploy nope to 2 in {web}", "--yes", "--json", env=env)
    assert failed.returncode == 1, failed.stderr
    doc = json.loads(failed.stdout)
    assert doc["status"] == "error" and "scale_deployment" in doc["error"]
    shown = run("ask", f"scale deploy nope to 2 in {web}", "--yes", env=env)
    assert shown.returncode == 1
    assert "✗ scale_deployment: the dry run of scale_deployment failed" in shown.stdout


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a firewalled or hung Postgres)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_an_unreachable_postgres_is_one_line(silent_server: int) -> None:
    url = f"postgresql://opsgraph@127.0.0.1:{silent_server}/opsgraph"
    result = run("threads", "list", env={"OPSGRAPH_CHECKPOINT_URL": url})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: cannot open checkpoint database 127.0.0.1:{silent_server}/opsgraph: connection timeout expired"
    ]


def test_opening_an_unreachable_postgres_gives_up_after_the_connect_timeout(silent_server: int) -> None:
    """One plain connection with a 3 s timeout, not the pool's 10 s of retries (in-process: no start-up)."""
    started = time.monotonic()
    with pytest.raises(StoreError, match="connection timeout expired"):
        open_store(f"postgresql://opsgraph@127.0.0.1:{silent_server}/opsgraph")
    assert POSTGRES_CONNECT_TIMEOUT_S <= time.monotonic() - started < 9


def test_sqlite_urls_follow_sqlalchemy(tmp_path: Path) -> None:
    relative = run(
        "ask", "write a haiku", env={"OPSGRAPH_CHECKPOINT_URL": "sqlite:///rel/x.db"}, cwd=tmp_path
    )
    assert relative.returncode == 0, relative.stderr
    assert (tmp_path / "rel" / "x.db").exists()
    absolute = tmp_path / "abs" / "y.db"
    result = run("ask", "write a haiku", env={"OPSGRAPH_CHECKPOINT_URL": f"sqlite:///{absolute}"})
    assert result.returncode == 0, result.stderr
    assert absolute.exists()  # sqlite:////tmp/... : the fourth slash starts the absolute path


def test_thread_ids_are_whole_in_an_80_column_list() -> None:
    ids = ["2f0c4e1d9a8b4c7e9d6f5a4b3c2d1e0f", "slack-T012AB3CD-C045EF6GH-1712345678.123456"]
    for thread_id in ids:
        assert run("ask", "write a haiku " * 8, "--new-thread", thread_id).returncode == 0
    listed = run("threads", "list", env={"COLUMNS": "80"})
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), listed.stdout
    for thread_id in ids:
        assert any(line.split()[0] == thread_id for line in lines), listed.stdout


def test_chat_reports_a_model_error_in_one_line_and_goes_on() -> None:
    env = {
        "OPSGRAPH_BASE_URL": "http://127.0.0.1:9/v1",
        "OPSGRAPH_MODEL": "llama3",
        "OPSGRAPH_MODEL_TIMEOUT_S": "5",
    }
    result = run("chat", env=env, stdin="list pods\nlist pods in shop\n")
    assert result.returncode == 0, result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and all("http://127.0.0.1:9/v1" in line for line in errors)
    assert "Traceback" not in result.stdout + result.stderr
    assert "cluster  none (no kubeconfig, and the sandbox is off)" in result.stdout
