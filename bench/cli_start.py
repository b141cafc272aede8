"""How fast the command line answers: `opsgraph --help`, `--version` and `ask --help`, wall time per run.

The target is 0.3 s for `--help` (wall time on an idle machine; the CPU time beside it is what a loaded
machine inflates least): the CLI imports typer and its own small modules only, everything heavy
loads inside the command that needs it (tests/cli/test_cli.py::test_help_loads_no_heavy_module checks the
modules). Python's own start-up (`python -c pass`) is measured beside it, on the same machine in the same
run, so the figure can be read on a loaded machine too.

    python bench/cli_start.py [--runs 20]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

OPSGRAPH = str(Path(sys.executable).parent / "opsgraph")
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "opsgraph --help": [OPSGRAPH, "--help"],
    "opsgraph --version": [OPSGRAPH, "--version"],
    "opsgraph ask --help": [OPSGRAPH, "ask", "--help"],
}


def measure(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall times, and CPU times (user + system of the child: what a busy machine inflates least)."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(
        f"{'command':<22} {'wall median':>12} {'p90':>8} {'min':>8} {'CPU median':>11}   ({args.runs} runs each)"
    )
    for name, argv in CASES.items():
        walls, cpus = measure(argv, args.runs)
        walls.sort()
        p90 = walls[int(0.9 * (len(walls) - 1))]
        print(
            f"{name:<22} {statistics.median(walls):>11.3f}s {p90:>7.3f}s {walls[0]:>7.3f}s "
            f"{statistics.median(cpus):>10.3f}s"
        )


if __name__ == "__main__":
    main()
