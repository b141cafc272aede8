"""Who is running a thread: a run token per run, a lease its process renews, and how to tell it died.

A run's token names its process (`pid@host/nonce`). While the run goes on, its process's `Heartbeat`
pushes the lease forward; a run is dead when its lease ran out, or at once when its process was on this
host and is gone (`kill -9`, a crash, a reboot). A dead run's thread is shown as interrupted, with the
reason, and the next run on it takes over.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime

__all__ = ["HEARTBEAT_S", "LEASE_S", "Heartbeat", "gone_reason", "new_token", "run_alive"]

LEASE_S = 30.0
"""How long a run's claim on its thread lasts without a heartbeat (what another host waits for)."""
HEARTBEAT_S = 10.0
"""How often a process renews the leases of the runs it drives."""

_HOST = socket.gethostname()


def new_token() -> str:
    """A fresh run token for this process."""
    return f"{os.getpid()}@{_HOST}/{uuid.uuid4().hex[:12]}"


def _where(token: str) -> tuple[int, str] | None:
    pid, _, rest = token.partition("@")
    host = rest.rpartition("/")[0]
    return (int(pid), host) if pid.isdigit() and host else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def run_alive(token: str | None, lease_until: float | None, now: float | None = None) -> bool:
    """Whether the run holding a thread under `token` can still be going."""
    if not token or lease_until is None or lease_until < (time.time() if now is None else now):
        return False
    where = _where(token)
    if where is not None and where[1] == _HOST:
        return _pid_alive(where[0])
    return True


def gone_reason(token: str | None, lease_until: float | None) -> str:
    """Why a thread's run stopped, in words, for a thread left `running` by a run that is dead."""
    where = _where(token or "")
    who = f"process {where[0]} on {where[1]}" if where else "the process running it"
    if lease_until is None:
        return f"its run stopped when {who} went away; continue it from its last checkpoint"
    last = datetime.fromtimestamp(lease_until - LEASE_S, UTC).isoformat(timespec="seconds")
    return (
        f"its run stopped when {who} went away (last heartbeat {last}); continue it from its last checkpoint"
    )


class Heartbeat:
    """Renews the leases of the runs this process drives, every `interval` seconds, on a daemon thread."""

    def __init__(self, renew: Callable[[Collection[str]], None], interval: float = HEARTBEAT_S) -> None:
        self._renew, self._interval = renew, interval
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="opsgraph-heartbeat", daemon=True)
                self._thread.start()

    def drop(self, token: str) -> None:
        with self._lock:
            self._tokens.discard(token)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                tokens = set(self._tokens)
            if tokens:
                with contextlib.suppress(Exception):  # a database hiccup: the next beat tries again
                    self._renew(tokens)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
