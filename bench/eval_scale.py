"""The local pool against Ray, 2 workers each: `python bench/eval_scale.py [SUITE ...] [--limit N]`.

Runs each suite (default: iam-compare, all 546 pairs, and iam-repair) on the local pool, then on a Ray head
on 127.0.0.1 (`ray start --head`, 2 CPUs, as tests/eval/ray_head.py does) reached as a user reaches KubeRay
(`ray://`, our packages through `runtime_env`), then on the local pool again. Prints, per suite: the wall
times, Ray's overhead per case ((Ray wall - the better local wall) / cases), the head's start and the
time to connect (the job's runtime_env upload included) and whether the results are the same (`eval.same_results`: status, score,
metrics, error; timings and evidence aside). Needs the `ray` extra. Figures depend on the machine and its
load (printed beside each run) and are not asserted anywhere; they go in docs/eval.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.ray_backend import connect  # noqa: E402
from eval.runner import run_suite  # noqa: E402
from eval.same_results import differences  # noqa: E402
from eval.suite import RunOptions  # noqa: E402
from tests.eval.ray_head import start_head  # noqa: E402

__all__ = ["main"]


def _run(suite: str, options: RunOptions) -> tuple[float, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        outcome = run_suite(suite, options, Path(tmp))
        return time.perf_counter() - started, outcome


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", default=["iam-compare", "iam-repair"])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N cases of each suite.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args(argv)
    import ray

    common = {"workers": 2, "limit": args.limit, "time_limit_s": 300}
    # The local pool runs before this process connects to Ray and again after it disconnects (the
    # machine's load moves; the better of the two is the pool's figure), Ray in between.
    local: dict[str, list[tuple[float, Any, float]]] = {suite: [] for suite in args.suites}

    def local_runs() -> None:
        for suite in args.suites:
            wall, outcome = _run(suite, RunOptions(**common))
            local[suite].append((wall, outcome, os.getloadavg()[0]))
            print(f"{suite}: local pool {wall:.1f} s (load {os.getloadavg()[0]:.1f})")

    local_runs()
    on_ray: dict[str, tuple[float, Any, float]] = {}
    started = time.perf_counter()
    head = start_head(num_cpus=2)
    head_s = time.perf_counter() - started
    try:
        os.environ.update(head.env)
        started = time.perf_counter()
        connect(head.address, workers=2)
        connect_s = time.perf_counter() - started
        print(f"Ray head up in {head_s:.1f} s; connected (runtime_env uploaded) in {connect_s:.1f} s")
        for suite in args.suites:
            wall, outcome = _run(suite, RunOptions(**common, backend="ray", address=head.address))
            on_ray[suite] = (wall, outcome, os.getloadavg()[0])
            print(f"{suite}: Ray {wall:.1f} s (load {os.getloadavg()[0]:.1f})")
    finally:
        ray.shutdown()
        head.stop()
    local_runs()
    rows: list[dict[str, Any]] = []
    for suite in args.suites:
        local_s, pool, _ = min(local[suite], key=lambda run: run[0])
        ray_s, remote, load_ray = on_ray[suite]
        cases = len(pool.results)
        diff = [*differences(local[suite][0][1].results, remote.results)]
        diff += differences(local[suite][1][1].results, remote.results)
        row = {
            "suite": suite,
            "cases": cases,
            "local_wall_s": [round(run[0], 2) for run in local[suite]],
            "ray_wall_s": round(ray_s, 2),
            "overhead_per_case_ms": round(1000 * (ray_s - local_s) / max(1, cases), 1),
            "identical": not diff,
            "status_local": pool.summary["status"],
            "status_ray": remote.summary["status"],
            "load_local": [round(run[2], 1) for run in local[suite]],
            "load_ray": round(load_ray, 1),
        }
        rows.append(row)
        print(
            f"{suite}: {cases} cases; local pool {' / '.join(f'{r[0]:.1f}' for r in local[suite])} s, "
            f"Ray {ray_s:.1f} s; overhead {row['overhead_per_case_ms']} ms/case (Ray - best local); "
            f"identical results: {'yes' if not diff else 'NO'}"
        )
        for line in diff:
            print(f"  differs: {line[:300]}")
    summary = {"head_start_s": round(head_s, 1), "connect_s": round(connect_s, 1), "suites": rows}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
