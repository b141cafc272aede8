"""One Z3 operation at a time per process.

Z3's Python API shares one global context, and that context is not thread-safe: two threads building or
solving formulas at once crash or corrupt each other (seen on the server, whose runs use worker threads).
Every public entry point of the engine holds this re-entrant lock for its whole duration, so nested calls
(repair → compare → solve) are fine and concurrent callers queue.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["Z3_LOCK", "exclusive"]

Z3_LOCK = threading.RLock()

P = ParamSpec("P")
R = TypeVar("R")


def exclusive(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` holding the engine's Z3 lock."""

    @functools.wraps(fn)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with Z3_LOCK:
            return fn(*args, **kwargs)

    return locked
