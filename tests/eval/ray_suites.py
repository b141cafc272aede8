"""Test-double suites for the Ray tests, registered at run time (so the Ray backend ships them by value).

`ray-probe`: each case reports where the worker imported our code from and whether it sees the driver's
checkout. `ray-victims`: cases that pass, one that waits to be killed on its first attempt, and one that
kills its own worker on every attempt; `marks` (a folder the test reads) records each attempt.
`ray-memory`: two small cases, then one that takes memory until the node's memory monitor stops it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from eval.case import Case, CaseOutcome
from eval.suite import CaseEnv, RunOptions, Suite

__all__ = ["MemorySuite", "ProbeSuite", "VictimSuite"]


class ProbeSuite(Suite):
    name = "ray-probe"
    description = "test double: where a worker's code comes from"

    def cases(self, options: RunOptions) -> list[Case]:
        return [Case(id=f"probe-{n}") for n in range(2)]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        import eval
        import policies

        return CaseOutcome(
            passed=True,
            detail={
                "eval": eval.__file__,
                "policies": policies.__file__,
                "pythonpath": os.environ.get("PYTHONPATH", ""),
                "pid": os.getpid(),
            },
        )


class VictimSuite(Suite):
    name = "ray-victims"
    description = "test double: a case whose worker is killed once, one whose worker always dies"
    marks: Path | None = None

    def cases(self, options: RunOptions) -> list[Case]:
        ids = ["pass-1", "victim", "pass-2", "always-dies", "pass-3", "fail", "pass-4"]
        return [Case(id=i, data={"n": n}) for n, i in enumerate(ids)]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        marks = self.marks
        earlier = sorted(marks.glob(f"{case.id}.*")) if marks is not None else []
        if marks is not None:
            (marks / f"{case.id}.{os.getpid()}.{time.monotonic_ns()}").write_text(str(os.getpid()))
        if case.id == "victim" and not earlier:
            time.sleep(60)  # the test kills this worker (SIGKILL) while it waits
        if case.id == "always-dies":
            os._exit(9)
        return CaseOutcome(
            passed=case.id != "fail", score=float(case.data["n"]), metrics={"len": len(case.id)}
        )


class MemorySuite(Suite):
    name = "ray-memory"
    description = "test double: a case that takes memory until the node's memory monitor stops it"
    hog_mib: int = 6144

    def cases(self, options: RunOptions) -> list[Case]:
        return [Case(id=i) for i in ("small-1", "small-2", "hog")]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        held = []
        if case.id == "hog":
            for _ in range(self.hog_mib // 64):
                held.append(bytearray(64 << 20))  # zero-filled: every page is touched
                time.sleep(0.05)
        return CaseOutcome(passed=True, metrics={"held_mib": 64 * len(held)})
