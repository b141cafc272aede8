"""A real Ray head on 127.0.0.1 for the Ray tests and bench/eval_scale.py, as `ray start --head` runs it.

Every port Ray lets us choose is a free one on 127.0.0.1 (workers get 100 ports from a free block), the
session lives in its own temp dir. Token authentication is off (`RAY_AUTH_MODE=disabled`): Ray reads that
mode once per process, when it is imported, so a test process could not switch a token on for one head;
the head listens on this machine only. The head runs in its own process group, which `stop()` ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RayHead", "free_port", "start_head"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_block(size: int) -> int:
    """The first port of `size` consecutive ports that are free now (for Ray's worker port range)."""
    for _ in range(50):
        start = free_port()
        if start + size >= 65535:
            continue
        try:
            for port in range(start, start + size):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return start
    raise RuntimeError("no block of free ports for Ray's workers")


@dataclass
class RayHead:
    process: subprocess.Popen[bytes]
    client_port: int
    temp_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    """What a driver needs in its environment to connect."""

    @property
    def address(self) -> str:
        return f"ray://127.0.0.1:{self.client_port}"

    def stop(self) -> None:
        """SIGKILL the head's process group (a throwaway head: nothing in it needs a clean shutdown)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)  # reap `ray start`, or the group stays alive as a zombie
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_alive(self.process.pid):
            time.sleep(0.1)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def start_head(
    num_cpus: int = 2, timeout_s: float = 180.0, extra_env: dict[str, str] | None = None
) -> RayHead:
    """Start `ray start --head --block` on 127.0.0.1 and wait until its client port answers."""
    ray_cli = Path(sys.executable).with_name("ray")
    temp_dir = Path(tempfile.mkdtemp(prefix="opsgraph-ray-"))
    worker_ports = _free_block(100)
    taken = set(range(worker_ports, worker_ports + 100))

    def port() -> int:
        while (chosen := free_port()) in taken:
            pass
        taken.add(chosen)
        return chosen

    client_port = port()
    env = {"RAY_AUTH_MODE": "disabled"}
    args = [
        str(ray_cli),
        "start",
        "--head",
        "--block",
        "--disable-usage-stats",
        "--include-dashboard=false",
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={num_cpus}",
        f"--temp-dir={temp_dir}",
        f"--port={port()}",
        f"--ray-client-server-port={client_port}",
        f"--node-manager-port={port()}",
        f"--object-manager-port={port()}",
        f"--dashboard-agent-listen-port={port()}",
        f"--dashboard-agent-grpc-port={port()}",
        f"--runtime-env-agent-port={port()}",
        f"--metrics-export-port={port()}",
        f"--dashboard-port={port()}",
        f"--min-worker-port={worker_ports}",
        f"--max-worker-port={worker_ports + 99}",
    ]
    log = (temp_dir / "head.log").open("wb")
    process = subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env, **(extra_env or {})},
        start_new_session=True,
    )
    head = RayHead(process, client_port, temp_dir, env)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = (temp_dir / "head.log").read_text(errors="replace")[-3000:]
            head.stop()
            raise RuntimeError(f"ray start --head exited {process.returncode}:\n{text}")
        # The client port opens ~2 s before `ray start` has every component up; a driver connecting in
        # that window gets "Initialization failure from server" (seen in CI). Ready = both.
        started = b"Ray runtime started" in (temp_dir / "head.log").read_bytes()
        try:
            with socket.create_connection(("127.0.0.1", client_port), timeout=1):
                if started:
                    return head
        except OSError:
            pass
        time.sleep(0.5)
    head.stop()
    raise RuntimeError(
        f"the Ray head was not ready (runtime started, client port open) within {timeout_s:g} s"
    )
