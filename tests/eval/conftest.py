"""Fixtures for the eval tests: test-only suites that pass, fail, raise, hang or kill their worker."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from eval.case import Case, CaseOutcome
from eval.suite import CaseEnv, RunOptions, Suite
from eval.suites import register_suite


class FakeBehaviourSuite(Suite):
    """Each case does what its id says; `marks` (a folder) counts how many times each case ran."""

    name = "fake-behaviours"
    description = "test double: cases that pass, fail, raise, hang and crash"
    marks: Path | None = None

    def cases(self, options: RunOptions) -> list[Case]:
        ids = ["pass-1", "raise", "crash", "hang", "fail", "pass-2", "pass-3", "pass-4"]
        return [Case(id=i) for i in ids]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        if self.marks is not None:
            (self.marks / f"{case.id}.{os.getpid()}.{time.monotonic_ns()}").touch()
        if case.id == "raise":
            raise ValueError("this case is broken on purpose")
        if case.id == "crash":
            os._exit(3)
        if case.id == "hang":
            time.sleep(60)
        return CaseOutcome(passed=case.id != "fail", score=1.0, metrics={"n": len(case.id)})


@pytest.fixture
def fake_suite(tmp_path: Path) -> type[FakeBehaviourSuite]:
    marks = tmp_path / "marks"
    marks.mkdir()
    FakeBehaviourSuite.marks = marks
    register_suite(FakeBehaviourSuite)
    return FakeBehaviourSuite
