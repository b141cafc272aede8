"""Run a sandbox as a subprocess: `SandboxProcess` (owned by this process and stopped with it, what the tests
use) or `spawn_detached` (a sandbox that outlives its starter, what opsgraph's sandbox registry starts)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["SandboxError", "SandboxProcess", "spawn_detached"]


class SandboxError(RuntimeError):
    """The sandbox did not start (its stderr is in the message)."""


def _command(
    port: int, scenario: str, kubeconfig: Path, state: Path | None, record: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """`python -m sandbox ...` and its environment (this checkout on the path, as the tests run it)."""
    cmd = [sys.executable, "-m", "sandbox", "--port", str(port), "--scenario", scenario]
    cmd += ["--kubeconfig", str(kubeconfig)]
    if state is not None:
        cmd += ["--state", str(state)]
    if record is not None:
        cmd += ["--record", str(record)]
    root = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
    }
    return cmd, env


def spawn_detached(
    *, kubeconfig: Path, state: Path, record: Path, log: Path, scenario: str = "default", port: int = 0
) -> subprocess.Popen[bytes]:
    """Start a sandbox in its own session (a terminal's Ctrl-C or its starter's exit leave it running), its
    output in `log`. It writes `record` (JSON: pid, url, token, files) once it serves."""
    cmd, env = _command(port, scenario, kubeconfig, state, record)
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, start_new_session=True
        )


class SandboxProcess:
    """`with SandboxProcess(scenario="default") as sbx: ...` gives `sbx.url` and `sbx.kubeconfig`.

    The kubeconfig's contexts are `sandbox` (admin) and `sandbox-developer`, `sandbox-viewer`,
    `sandbox-intern`, each with its own token.
    """

    def __init__(
        self,
        port: int = 0,
        scenario: str = "default",
        kubeconfig: Path | None = None,
        state: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.port = port
        self.scenario = scenario
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if kubeconfig is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="opsgraph-sandbox-")
            kubeconfig = Path(self._tmp.name) / "kubeconfig"
        self.kubeconfig = Path(kubeconfig)
        self.state = state
        self.startup_timeout = startup_timeout
        self.url = ""
        self.startup_ms = 0.0
        self.output_tail: deque[str] = deque(maxlen=200)
        """The server's last output lines (request logs with --verbose, tracebacks of 500s)."""
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> SandboxProcess:
        cmd, env = _command(self.port, self.scenario, self.kubeconfig, self.state)
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(
                self._proc.stdout.readline() if self._proc and self._proc.stdout else ""
            ),
            daemon=True,
        )
        reader.start()
        reader.join(self.startup_timeout)
        if not line or not line[0].startswith("sandbox ready"):
            self.stop()
            err = self._proc.stderr.read() if self._proc.stderr else ""
            raise SandboxError(
                f"the sandbox did not start: {err.strip().splitlines()[-1] if err.strip() else 'no output'}"
            )
        fields = dict(part.split("=", 1) for part in line[0].split()[2:])
        self.url = fields["url"]
        self.startup_ms = float(fields.get("startup_ms", 0))
        # keep reading its output, so a full pipe never blocks the server; the last lines stay for errors
        for stream in (self._proc.stdout, self._proc.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()
        return self

    def _drain(self, stream: Any) -> None:
        try:
            for text in stream:
                self.output_tail.append(text.rstrip("\n"))
        except (OSError, ValueError):  # closed by stop()
            return

    def reset(self, scenario: str = "default") -> None:
        """Replace the running cluster's whole state with a fresh scenario (faster than a restart)."""
        import json
        import urllib.request

        import yaml  # type: ignore[import-untyped]

        doc = yaml.safe_load(self.kubeconfig.read_text())
        token = next(u["user"]["token"] for u in doc["users"] if u["name"].endswith("-admin"))
        request = urllib.request.Request(
            f"{self.url}/sandbox/reset",
            data=json.dumps({"scenario": scenario}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr) if self._proc else ():
            if stream:
                stream.close()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
