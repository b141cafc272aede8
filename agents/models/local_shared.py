"""Local model servers shared between opsgraph processes: one per model file and settings.

Under `<data dir>/models/` each server has a record (`KEY.json`: pid, base URL, model, settings), a lock
(`KEY.lock`), its log (`KEY.log`) and a folder of leases (`KEY.leases/PID-START`), one per opsgraph process
using it. Starting, reusing and stopping all happen under the lock, so two processes never start two
servers for one key and a server never stops while a process is picking it up. The server itself watches
the leases: once no leaseholder is alive for `keep_alive_s` (the process may have crashed; a pid whose start
time changed is another process), it removes its record and stops.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from agents.interprocess import locked, process_token
from agents.models.local import LocalServerSpec, spawn, wait_ready

__all__ = [
    "ServerFiles",
    "is_serving",
    "live_leases",
    "locked",
    "process_token",
    "running",
    "shared_base_url",
    "stop",
]

_OUR_LEASES: set[Path] = set()


@dataclass(frozen=True)
class ServerFiles:
    """The files of one shared server under `<data dir>/models/`."""

    root: Path
    key: str

    @property
    def record(self) -> Path:
        return self.root / f"{self.key}.json"

    @property
    def lock(self) -> Path:
        return self.root / f"{self.key}.lock"

    @property
    def log(self) -> Path:
        return self.root / f"{self.key}.log"

    @property
    def leases(self) -> Path:
        return self.root / f"{self.key}.leases"


def _alive(pid: int, token: str) -> bool:
    return process_token(pid) == token


def live_leases(leases: Path) -> int:
    """How many leaseholders are alive; the leases of dead ones are removed."""
    count = 0
    for lease in leases.glob("*-*") if leases.is_dir() else ():
        pid, _, token = lease.name.partition("-")
        if pid.isdigit() and _alive(int(pid), token):
            count += 1
        else:
            lease.unlink(missing_ok=True)
    return count


def _take_lease(leases: Path) -> None:
    leases.mkdir(parents=True, exist_ok=True)
    lease = leases / f"{os.getpid()}-{process_token(os.getpid())}"
    lease.touch()
    if not _OUR_LEASES:
        atexit.register(_drop_leases)
    _OUR_LEASES.add(lease)


def _drop_leases() -> None:
    for lease in _OUR_LEASES:
        lease.unlink(missing_ok=True)
    _OUR_LEASES.clear()


def _read(record: Path) -> dict[str, object] | None:
    try:
        data = json.loads(record.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _serving(record: dict[str, object]) -> bool:
    if not _alive(int(str(record.get("pid", 0))), str(record.get("token"))):
        return False
    url = str(record["base_url"]).removesuffix("/v1") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def is_serving(spec: LocalServerSpec, data_dir: Path) -> bool:
    """Whether a server for `spec` is up and answering (a request then needs no model load)."""
    record = _read(ServerFiles(data_dir / "models", spec.key()).record)
    return record is not None and _serving(record)


def shared_base_url(
    spec: LocalServerSpec, data_dir: Path, *, keep_alive_s: float, start_timeout_s: float
) -> str:
    """The base URL of the server for `spec`, started unless one already serves; this process holds a
    lease on it until it exits."""
    files = ServerFiles(data_dir / "models", spec.key())
    with locked(files.lock):
        record = _read(files.record)
        if record is None or not _serving(record):
            if record is not None:
                _terminate(record)
            files.record.unlink(missing_ok=True)
            files.log.write_bytes(b"")
            extra = [
                "--leases",
                str(files.leases),
                "--lock",
                str(files.lock),
                "--keep-alive",
                str(keep_alive_s),
            ]
            process = spawn(spec, files.log, files.record, extra, detach=True)
            record = wait_ready(process, spec, files.record, files.log, start_timeout_s)
        _take_lease(files.leases)
    return str(record["base_url"])


def _terminate(record: dict[str, object], wait_s: float = 20.0) -> None:
    pid, token = int(str(record.get("pid", 0))), str(record.get("token"))
    if not pid or not _alive(pid, token):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while _alive(pid, token) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid, token):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def running(data_dir: Path) -> list[dict[str, object]]:
    """The records of the shared servers that are alive, each with `users` (live leaseholders)."""
    found = []
    for path in sorted((data_dir / "models").glob("*.json")):
        record = _read(path)
        if record is not None and _alive(int(str(record.get("pid", 0))), str(record.get("token"))):
            record["users"] = live_leases(path.with_suffix(".leases"))
            found.append(record)
    return found


def stop(data_dir: Path, model: Path | None = None) -> list[dict[str, object]]:
    """Stop the shared servers (of `model` only, when given); returns the records of those stopped."""
    stopped = []
    for record in running(data_dir):
        if model is not None and Path(str(record["model"])) != model.expanduser().resolve():
            continue
        files = ServerFiles(data_dir / "models", str(record["key"]))
        with locked(files.lock):
            _terminate(record)
            files.record.unlink(missing_ok=True)
        stopped.append(record)
    return stopped
