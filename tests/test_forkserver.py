"""The docs runner's warm start: a forked command gets the caller's argv, environment, directory, streams
and signals, its exit code is the caller's, and it dies with its caller; without the server the client
runs the real command."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.forkserver import ForkServer

SCRIPT = """
import os, signal, sys, time
from pathlib import Path
here = Path(sys.argv[1])
(here / "pid").write_text(str(os.getpid()))
print(os.getcwd(), os.environ["GREETING"], sys.argv[2:], flush=True)
if sys.argv[2] == "wait":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))
    time.sleep(60)
sys.exit(int(sys.argv[2]))
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ForkServer]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    with ForkServer(tmp_path / "warm", env, preload=("json",)) as warm:
        assert warm.wait_ready(60)
        yield warm


def _shell(server: ForkServer, command: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PATH": f"{server.bin}{os.pathsep}{os.environ['PATH']}", "GREETING": "hi"}
    return subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_a_forked_block_has_the_callers_directory_environment_streams_and_exit_code(
    server: ForkServer, tmp_path: Path
) -> None:
    (tmp_path / "block.py").write_text(SCRIPT)
    shell = _shell(server, f"docs-python block.py {tmp_path} 3 >out.txt; echo rc=$?", tmp_path)
    assert shell.communicate(timeout=60)[0] == "rc=3\n"
    assert (tmp_path / "out.txt").read_text() == f"{tmp_path} hi ['3']\n"
    version = _shell(server, "opsgraph --version", tmp_path).communicate(timeout=60)[0]
    assert version == "opsgraph 0.1.0\n"


def test_signals_reach_the_command_and_it_dies_with_its_caller(server: ForkServer, tmp_path: Path) -> None:
    (tmp_path / "block.py").write_text(SCRIPT)
    for how, expected in ((signal.SIGTERM, 7), (signal.SIGKILL, -signal.SIGKILL)):
        (tmp_path / "pid").unlink(missing_ok=True)
        client = subprocess.Popen(
            [str(server.bin / "docs-python"), "block.py", str(tmp_path), "wait"],
            cwd=tmp_path,
            env={**os.environ, "GREETING": "hi"},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdout is not None and client.stdout.readline().endswith("['wait']\n")
        command = int((tmp_path / "pid").read_text())
        assert command != client.pid  # the command runs in a forked process, not in the client
        client.send_signal(how)
        assert client.wait(timeout=30) == expected
        deadline = time.monotonic() + 10
        while Path(f"/proc/{command}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{command}").exists()


def test_without_the_server_the_client_runs_the_real_command(server: ForkServer, tmp_path: Path) -> None:
    server.close()
    (tmp_path / "block.py").write_text(SCRIPT)
    client = subprocess.run(
        [str(server.bin / "docs-python"), "block.py", str(tmp_path), "0"],
        cwd=tmp_path,
        env={**os.environ, "GREETING": "hi"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (client.returncode, client.stdout) == (0, f"{tmp_path} hi ['0']\n")
