"""One time budget for a whole command: encoding, lemmas, solving and witness search all draw on it.

`time_budget(ms)` sets a deadline for the block (the earlier of it and any enclosing one); the engine's
loops call `check()`, which raises `BudgetExceededError` once it has passed, and each public entry point
turns that into an `unknown` answer with the reason. A budget that runs out is never a verdict.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["BudgetExceededError", "check", "deadline", "remaining_ms", "time_budget"]

_DEADLINE: ContextVar[float | None] = ContextVar("iam_command_deadline", default=None)


class BudgetExceededError(RuntimeError):
    """The command's time budget ran out; `stage` says what was running."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"timed out: the time budget ran out while {stage}")
        self.stage = stage


@contextmanager
def time_budget(timeout_ms: int | None) -> Iterator[float | None]:
    """Run the block under a deadline `timeout_ms` from now (None: only the enclosing one, if any)."""
    current = _DEADLINE.get()
    mine = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
    chosen = mine if current is None else current if mine is None else min(current, mine)
    token = _DEADLINE.set(chosen)
    try:
        yield chosen
    finally:
        _DEADLINE.reset(token)


def deadline() -> float | None:
    """The current deadline (a `time.monotonic()` instant), or None when no budget is set."""
    return _DEADLINE.get()


def remaining_ms(default: int) -> int:
    """Milliseconds left of the budget, or `default` when there is none (never below zero)."""
    end = _DEADLINE.get()
    if end is None:
        return default
    return max(0, min(default, int((end - time.monotonic()) * 1000)))


def check(stage: str) -> None:
    """Raise `BudgetExceededError` when the deadline has passed."""
    end = _DEADLINE.get()
    if end is not None and time.monotonic() > end:
        raise BudgetExceededError(stage)
