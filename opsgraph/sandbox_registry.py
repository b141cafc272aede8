"""One sandbox per data directory, shared by every opsgraph process that uses it.

Its files are in `<data dir>/sandbox/`: `sandbox.json` (the record the sandbox writes once it serves: pid,
URL, admin token, kubeconfig, state file), `sandbox.lock` (held while a process starts, checks or stops
it), `sandbox.log`, `kubeconfig`, and `state.sqlite`, which the running sandbox alone owns and saves.

The first process that needs the sandbox starts it detached; every later one finds the record, checks that
the process lives and answers with the recorded token, and reuses it. It runs until `opsgraph sandbox
stop`. A process holding a `SandboxLease` (the SDK's `Assistant`: `opsgraph serve`, `chat`, `ask`) starts
it again if it dies (a crash, a `kill -9`); a sandbox that was stopped on purpose stays stopped. Clients
reload the kubeconfig when it changes, so they follow a restarted sandbox to its new port and tokens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agents.interprocess import locked, process_token
from opsgraph.settings import Settings
from sandbox.process import SandboxError, spawn_detached

__all__ = ["SandboxLease", "SandboxRecord", "SandboxRegistry", "SandboxStatus"]

log = logging.getLogger("opsgraph.sandbox")

_children: dict[int, subprocess.Popen[bytes]] = {}
"""Sandboxes this process started: polled so that one that died is reaped, not left a zombie."""


class SandboxRecord(BaseModel):
    pid: int
    url: str
    """Plain HTTP (the Prometheus API); the kubeconfig points at `https_url`."""
    https_url: str
    port: int
    token: str
    """The admin's bearer token (the file is readable by its owner only)."""
    kubeconfig: Path
    state: Path | None
    scenario: str
    started_at: str


@dataclass(frozen=True)
class SandboxStatus:
    record: SandboxRecord | None
    alive: bool
    """The recorded process exists."""
    serving: bool
    """It answers with the recorded token."""


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]
        return False
    return process_token(pid) is not None


class SandboxRegistry:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def for_settings(cls, settings: Settings) -> SandboxRegistry:
        return cls(settings.data_dir / "sandbox")

    @property
    def kubeconfig(self) -> Path:
        return self.folder / "kubeconfig"

    @property
    def state(self) -> Path:
        return self.folder / "state.sqlite"

    @property
    def record_path(self) -> Path:
        return self.folder / "sandbox.json"

    @property
    def log(self) -> Path:
        return self.folder / "sandbox.log"

    @property
    def _lock(self) -> Path:
        return self.folder / "sandbox.lock"

    def read(self) -> SandboxRecord | None:
        try:
            return SandboxRecord.model_validate_json(self.record_path.read_text())
        except (FileNotFoundError, ValidationError):
            return None

    def status(self) -> SandboxStatus:
        record = self.read()
        alive = record is not None and _alive(record.pid)
        return SandboxStatus(record, alive, alive and record is not None and _serving(record))

    def ensure(
        self, scenario: str = "default", port: int = 0, timeout_s: float = 30.0
    ) -> tuple[SandboxRecord, bool]:
        """The running sandbox, started unless one serves; True when this call started it."""
        with locked(self._lock):
            record = self.read()
            if record is not None and _alive(record.pid) and _serving(record):
                return record, False
            if record is not None:  # dead, or alive but not answering: it goes
                _terminate(record.pid)
            return self._start(scenario, port, timeout_s), True

    def revive(self, timeout_s: float = 30.0) -> SandboxRecord | None:
        """Start the sandbox again if it died without being stopped (its record is left); None otherwise.
        Cheap when it lives: a file read and a look at the process."""
        record = self.read()
        if record is None or _alive(record.pid):
            return None
        with locked(self._lock):
            record = self.read()
            if record is None or _alive(record.pid):
                return None  # another process revived it, or someone stopped it
            return self._start(record.scenario, 0, timeout_s)

    def stop(self, timeout_s: float = 20.0) -> SandboxRecord | None:
        """Stop the sandbox (it saves its state first); the record of the one stopped, None if none ran."""
        with locked(self._lock):
            record = self.read()
            if record is None:
                return None
            _terminate(record.pid, timeout_s)
            self.record_path.unlink(missing_ok=True)
            return record

    def lease(self, scenario: str = "default", *, keep_alive_every_s: float = 2.0) -> SandboxLease:
        record, started = self.ensure(scenario)
        return SandboxLease(self, record, started, keep_alive_every_s)

    def _start(self, scenario: str, port: int, timeout_s: float) -> SandboxRecord:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.record_path.unlink(missing_ok=True)
        began = time.perf_counter()
        proc = spawn_detached(
            kubeconfig=self.kubeconfig,
            state=self.state,
            record=self.record_path,
            log=self.log,
            scenario=scenario,
            port=port,
        )
        _children[proc.pid] = proc
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            record = self.read()
            if record is not None and record.pid == proc.pid:
                log.info(
                    "started the sandbox (pid %d, %s) in %.0f ms; `opsgraph sandbox stop` stops it",
                    record.pid, record.https_url, (time.perf_counter() - began) * 1000,
                )  # fmt: skip
                return record
            if proc.poll() is not None:
                raise SandboxError(f"the sandbox did not start: {self._log_tail()} (log: {self.log})")
            time.sleep(0.02)
        _terminate(proc.pid)
        raise SandboxError(f"the sandbox did not start within {timeout_s:g} s (log: {self.log})")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
            if lines:
                return lines[-1].removeprefix("error: ")
        return "no output"


def _serving(record: SandboxRecord) -> bool:
    request = urllib.request.Request(
        f"{record.url}/version", headers={"Authorization": f"Bearer {record.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _terminate(pid: int, wait_s: float = 20.0) -> None:
    """SIGTERM (the sandbox saves its state and leaves), SIGKILL if it has not left within `wait_s`."""
    if not _alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)


class SandboxLease:
    """This process uses the registry's sandbox: while it holds the lease, a sandbox that dies is started
    again (every `keep_alive_every_s`). Closing the lease leaves the sandbox running for the others."""

    def __init__(
        self, registry: SandboxRegistry, record: SandboxRecord, started: bool, keep_alive_every_s: float
    ) -> None:
        self.registry, self.record, self.started = registry, record, started
        self._closed = threading.Event()
        self._keeper = threading.Thread(
            target=self._keep, args=(keep_alive_every_s,), name="opsgraph-sandbox-keeper", daemon=True
        )
        self._keeper.start()

    def _keep(self, every_s: float) -> None:
        while not self._closed.wait(every_s):
            try:
                revived = self.registry.revive()
            except (SandboxError, OSError) as exc:
                log.warning("the sandbox stopped and could not be started again: %s", exc)
                continue
            if revived is not None:
                log.warning(
                    "the sandbox (pid %d) had stopped; started it again (pid %d)",
                    self.record.pid,
                    revived.pid,
                )
                self.record = revived

    def close(self) -> None:
        self._closed.set()
        self._keeper.join(timeout=5)

    def stop_if_started(self) -> None:
        """For a start-up that failed after this process started the sandbox: leave nothing behind."""
        self.close()
        if self.started:
            self.registry.stop()
