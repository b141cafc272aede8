"""Plans are limited by work, not by the clock: the same problem gives the same plan, bound and status whether
the machine is quiet or busy, and in another process (another string-hash seed, so nothing may depend on a
set's order). The limits are set low so that they bind (a plan proven optimal early would prove nothing
here), and the second plan is made in a fresh process while a spinner per core keeps the machine busy."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from eval.suites.cost import build_problem
from tools.cost.plan import plan_nodes
from verifiers.cost import Plan, PlanProblem

ROOT = Path(__file__).parents[2]


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@contextmanager
def busy() -> Iterator[None]:
    procs = [multiprocessing.get_context("spawn").Process(target=_spin, args=(120.0,), daemon=True)
             for _ in range(os.cpu_count() or 2)]  # fmt: skip
    for p in procs:
        p.start()
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.join()


def _problem(pods: int) -> PlanProblem:
    base = build_problem("synthetic", pods, 2)
    types = sorted({o.instance_type for o in base.offerings})[::3]  # a smaller catalog: a quick test
    return PlanProblem(
        workloads=base.workloads, offerings=[o for o in base.offerings if o.instance_type in types]
    )


def _key(plan: Plan) -> str:
    nodes = sorted((n.offering, n.zone, sorted(n.pods.items())) for n in plan.nodes)
    return json.dumps(
        [nodes, plan.hourly_cost, plan.lower_bound, plan.status, plan.bound_source, plan.solver]
    )


@pytest.mark.parametrize(("pods", "exact_max_pods"), [(60, 100), (200, 0)])  # the exact path, the large one
def test_same_plan_on_a_busy_machine_in_another_process(pods: int, exact_max_pods: int) -> None:
    quiet = plan_nodes(_problem(pods), effort=0.05, exact_max_pods=exact_max_pods)
    assert quiet.status == "feasible"  # the work limit binds, so the comparison means something
    seed = str(int(os.environ.get("PYTHONHASHSEED", "0") or 0) + 12345)
    code = (
        "import sys; from tests.cost.test_plan_deterministic import _key, _problem; "
        "from tools.cost.plan import plan_nodes; "
        f"print(_key(plan_nodes(_problem({pods}), effort=0.05, exact_max_pods={exact_max_pods})))"
    )
    with busy():
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
    assert out.stdout.strip() == _key(quiet)
