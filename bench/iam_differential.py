"""Benchmark: the differential check of generated policy sets against iam-simulate, at full size.

Usage: IAM_SIMULATE_DIR=... python bench/iam_differential.py [--cases 12000] [--seed 15] [--symbolic 1000]

The same generator and divergence classes as tests/iam/test_iam_simulate_diff.py (which runs 1,500 sets
in CI): every disagreement between the concrete evaluator and @cloud-copilot/iam-simulate must be a
documented divergence, proven on a variant of the case. `--symbolic N` also decides the first N sets with
the Z3 engine, which must agree with the concrete evaluator on every one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds the generator

from tests.iam.policy_sets import generate_cases
from tests.iam.simulate import compare_with_simulator, simulator_missing
from verifiers.iam import decide, evaluate

__all__ = ["main"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--symbolic", type=int, default=1_000)
    args = parser.parse_args(argv)
    cases = generate_cases(args.cases, seed=args.seed)
    status = 0
    reason = simulator_missing()
    if reason:
        print(f"iam-simulate: not run ({reason})")
    else:
        start = time.perf_counter()
        outcome = compare_with_simulator(cases)
        print(f"iam-simulate: {outcome.summary()} ({time.perf_counter() - start:.1f} s)")
        for case, ours, theirs in outcome.unexplained[:10]:
            print(f"  unexplained: ours {ours}, iam-simulate {theirs}: {case.line()}")
        status = 1 if outcome.unexplained else 0
    start = time.perf_counter()
    wrong = unknown = 0
    for case in cases[: args.symbolic]:
        result = decide(case.policies, case.request)
        if result.status == "unknown":
            unknown += 1
        elif (result.status == "sat") != evaluate(case.policies, case.request).allowed:
            wrong += 1
            print(f"  engines disagree: {case.line()}")
    took = time.perf_counter() - start
    n = min(args.symbolic, len(cases))
    print(
        f"Z3 engine vs concrete evaluator: {n} sets, {wrong} disagreements, {unknown} unknown ({took:.1f} s)"
    )
    return status or int(bool(wrong))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
