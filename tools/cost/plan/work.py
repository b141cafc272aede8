"""Work limits for the solvers, in place of wall-clock budgets: the same problem gives the same plan, bound
and status whether the machine is busy or quiet.

CP-SAT stops at a deterministic time (its own count of work, roughly seconds on a quiet core) and, with
several workers, interleaves their searches in fixed batches instead of racing threads; HiGHS stops at a
number of branch-and-bound nodes; column generation and the pattern proof at a number of rounds; the
knapsacks at a number of search nodes. `effort` scales every limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

__all__ = ["Effort", "deterministic"]


def deterministic(solver: cp_model.CpSolver, dtime: float, workers: int = 1) -> None:
    """Limit `solver` by deterministic time; with several workers, interleave them deterministically."""
    params = solver.parameters
    params.max_deterministic_time = max(0.01, dtime)
    params.num_workers = workers
    params.interleave_search = workers > 1
    params.random_seed = 0


@dataclass(frozen=True)
class Effort:
    """The work each stage may do, scaled by `scale` (1.0: about 10-25 s per plan on one quiet core)."""

    scale: float = 1.0

    def dtime(self, base: float) -> float:
        return base * self.scale

    def count(self, base: int) -> int:
        return max(1, round(base * self.scale))
