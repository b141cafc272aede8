"""Benchmark: verified repair over the 37 quacky-repair tasks and generated CloudFix-style request suites.

Usage: python bench/iam_repair.py [--sizes 10,50] [--flip 0.2] [--skip-quacky]

- quacky-repair (eval/data/quacky-repair, 43 policy files): the listed requests must stay allowed, plus
  `least_privilege` (allow only the actions they name), the analogue of Quacky's permissiveness bound.
- CloudFix-style: each original policy of the Quacky corpus with a generated suite of N requests (60% allow,
  40% deny, a share of expectations flipped; `bench/iam_repair_suites.py`).

For each set: the share repaired (or already satisfying the spec), the median and worst wall time per
task, the permissiveness change (catalog actions allowed before and after, summed), and how many
repairs are proven to allow nothing beyond the original and the must-allow requests ("within bound").
Every repaired policy is re-checked here with the concrete evaluator.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from iam_repair_suites import corpus_originals, generate_suite

from policies import parse_policy
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair import Spec, parse_spec, repair
from verifiers.iam.repair.measure import allowed_actions

__all__ = ["main"]


@dataclass
class Tally:
    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    before: int = 0
    after: int = 0
    within_bound: int = 0
    repaired: int = 0
    edits: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, label: str, policy_doc: dict[str, Any], spec: Spec) -> None:
        policy = parse_policy(policy_doc)
        start, start_cpu = time.perf_counter(), time.process_time()
        result = repair(policy, spec)
        self.times.append(time.perf_counter() - start)
        self.cpu.append(time.process_time() - start_cpu)
        self.statuses[result.status] = self.statuses.get(result.status, 0) + 1
        if result.policy is None or result.status not in ("repaired", "already_satisfied"):
            self.problems.append(f"{label}: {result.status}: {result.explanation[:160]}")
            return
        wrong = [
            sr.label
            for sr in spec.requests
            if evaluate(result.policy, sr.request).allowed != (sr.expect == "Allow")
        ]
        if wrong:
            self.problems.append(f"{label}: concrete evaluator disagrees on {wrong}")
        self.before += len(allowed_actions(policy))
        self.after += len(allowed_actions(result.policy))
        self.within_bound += result.within_bound
        if result.status == "repaired":
            self.repaired += 1
            self.edits.append(len(result.edits))

    def report(self) -> str:
        n = len(self.times)
        ok = self.statuses.get("repaired", 0) + self.statuses.get("already_satisfied", 0)
        lines = [
            f"## {self.name}: {n} tasks",
            f"- solved: {ok}/{n} ({ok / n:.0%}); statuses: {dict(sorted(self.statuses.items()))}",
            f"- time per task: median {statistics.median(self.times):.3f} s, mean {statistics.mean(self.times):.3f} s, "
            f"worst {max(self.times):.3f} s, total {sum(self.times):.1f} s (wall)",
            f"- CPU time per task: median {statistics.median(self.cpu):.3f} s, worst {max(self.cpu):.3f} s, total {sum(self.cpu):.1f} s",
            f"- edits per repair: median {statistics.median(self.edits) if self.edits else 0}, max {max(self.edits, default=0)}",
            f"- catalog actions allowed (sum over tasks): before {self.before}, after {self.after}",
            f"- proven within the bound (nothing beyond the original and the must-allow requests): {self.within_bound}/{ok}",
        ]
        lines += [f"- problem: {p}" for p in self.problems]
        return "\n".join(lines)


def _quacky() -> Tally:
    from eval.datasets import load_repair_tasks

    tally = Tally("quacky-repair (must-allow + least_privilege)")
    for task in load_repair_tasks():
        spec = parse_spec({"must_allow": task.must_allow, "properties": ["least_privilege"]})
        for name, doc in sorted(task.policies.items()):
            tally.add(f"{task.id}/{name}", doc, spec)
    return tally


def _cloudfix(size: int, flip: float) -> Tally:
    tally = Tally(f"CloudFix-style suites, {size} requests, 60/40 allow/deny, {flip:.0%} flipped")
    for i, (key, doc) in enumerate(sorted(corpus_originals().items())):
        tally.add(key, doc, parse_spec(generate_suite(doc, size, seed=i, flip_share=flip)))
    return tally


def main(argv: list[str]) -> int:
    sizes = [10, 50]
    flip = 0.2
    if "--sizes" in argv:
        sizes = [int(s) for s in argv[argv.index("--sizes") + 1].split(",")]
    if "--flip" in argv:
        flip = float(argv[argv.index("--flip") + 1])
    tallies = [] if "--skip-quacky" in argv else [_quacky()]
    for size in sizes:
        tallies.append(_cloudfix(size, flip))
        print(tallies[-1].report(), file=sys.stderr, flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"(load average at the end: {load:.1f} on {os.cpu_count()} cores; wall times grow with load, CPU times less)\n"
    )
    print("\n\n".join(t.report() for t in tallies))
    return 0 if all(not t.problems for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
