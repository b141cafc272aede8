"""Files a tool writes after approval: their hash for a preview's precondition, and compare-and-swap.

`replace_if_unchanged` writes a file only if it still has the content the preview hashed (or is still
absent): the new text goes to a temporary file beside it, and under an exclusive lock on the folder the
current hash is checked and the temporary file renamed over the target (or linked in its place, for a
file that must not exist yet), so another opsgraph process cannot interleave. A program that ignores the
lock (an editor) can still write between the check and the rename: a window of microseconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from pathlib import Path

from tools.base import PreconditionFailedError

__all__ = ["replace_if_unchanged", "sha256_of", "sha256_text"]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_of(path: Path) -> str | None:
    """The file's SHA-256, or None when there is no such file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _short(digest: str | None) -> str:
    return "absent" if digest is None else f"sha256 {digest[:12]}"


def replace_if_unchanged(path: Path, expected: str | None, text: str) -> None:
    """Write `text` to `path` if the file still hashes to `expected` (None: still absent); else raise
    PreconditionFailedError and leave it as it is."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_text(text, encoding="utf-8")
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        current = sha256_of(path)
        if current != expected:
            raise PreconditionFailedError(
                f"{path} changed since the preview ({_short(expected)} -> {_short(current)})"
            )
        if expected is None:
            try:
                os.link(temporary, path)  # fails if the file appeared after all
            except FileExistsError as exc:
                raise PreconditionFailedError(f"{path} was created since the preview") from exc
        else:
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        os.close(folder)  # closing releases the lock
