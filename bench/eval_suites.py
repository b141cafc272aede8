"""Wall time of the eval suites with one and two workers: `python bench/eval_suites.py [SUITE ...]`.

Runs each suite in full (default: iam-compare and iam-repair) with `--workers 1` and `--workers 2`, and
prints one line per run with the wall time, the status counts and the suite's headline metrics. Figures
go in BENCHMARKS.md; they depend on the machine (cores, clock, other load: the load average is printed
beside each run) and are not asserted anywhere.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from eval.runner import SuiteUnavailableError, run_suite
from eval.suite import RunOptions

__all__ = ["main"]


def main(argv: list[str]) -> int:
    suites = argv or ["iam-compare", "iam-repair"]
    for name in suites:
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                try:
                    outcome = run_suite(name, RunOptions(workers=workers, time_limit_s=300), Path(tmp))
                except SuiteUnavailableError as exc:
                    print(f"{name}: {exc}")
                    break
                wall = time.perf_counter() - started
                s = outcome.summary
                d = s["durations"]
                print(
                    f"{name} workers={workers}: {s['cases']} cases in {wall:.2f} s wall "
                    f"(case time sum {d.get('total_s')} s, median {d.get('median_s')} s, max {d.get('max_s')} s; "
                    f"load average {os.getloadavg()[0]:.1f}); "
                    f"status {json.dumps({k: v for k, v in s['status'].items() if v})}"
                )
                print(f"  metrics: {json.dumps(s['metrics'], default=str)[:1500]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
