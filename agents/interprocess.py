"""What opsgraph processes sharing a data directory need to share a server: an exclusive lock file, and a
token that tells a live process from a dead one whose pid was reused (or that is a zombie).

Used by the shared local model servers (`agents.models.local_shared`) and the shared sandbox
(`opsgraph.sandbox_registry`); it imports nothing heavy, so a quick command (`opsgraph sandbox status`)
stays quick.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["locked", "process_token"]


@contextlib.contextmanager
def locked(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock file `path` exclusively; with `wait=False`, yields False at once when it is busy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def process_token(pid: int) -> str | None:
    """A token for a live process (its start time where /proc has it), or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc (macOS): the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "0"
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]
