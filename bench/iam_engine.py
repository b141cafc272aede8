"""Benchmark: the concrete evaluator's decisions per second on one core, and agreement of both engines.

Usage: python bench/iam_engine.py [DATASETS_DIR]   (default ../shared/datasets)

Requests: the 486 must-allow requests of the quacky-repair tasks against their policies, plus, per
policy, requests generated from the policy's own patterns with context values drawn from its conditions
(so that conditions are exercised both ways). The symbolic engine decides every request too; the two must
agree on all of them.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from policies import Policy, Request, parse_policy
from verifiers.iam import decide, evaluate

__all__ = ["main"]


def _fill(pattern: str, rng: random.Random) -> str:
    return "".join(rng.choice(["x", "prod", "a1"]) if c == "*" else "q" if c == "?" else c for c in pattern)


def _generated(policy: Policy, rng: random.Random, n: int) -> list[Request]:
    actions, resources, context_pool = [], [], {}
    for st in policy.statements:
        actions += [_fill(a, rng) for a in (st.action or st.not_action or ())]
        resources += [_fill(r, rng) for r in (st.resource or st.not_resource or ())]
        for c in st.condition:
            context_pool.setdefault(c.key, []).extend([_fill(v, rng) for v in c.values] + ["other-value"])
    actions += ["s3:GetObject", "ec2:RunInstances"]
    resources += ["arn:aws:s3:::unrelated/key"]
    out = []
    for _ in range(n):
        keys = [k for k in context_pool if rng.random() < 0.6]
        context = {k: rng.choice(context_pool[k]) for k in keys}
        out.append(Request(action=rng.choice(actions), resource=rng.choice(resources), context=context))
    return out


def _suite(root: Path) -> list[tuple[Policy, Request]]:
    rng = random.Random(7)
    pairs: list[tuple[Policy, Request]] = []
    for task in sorted((root / "quacky-repair/samples/repair").iterdir()):
        spec = task / "requests.json"
        for path in sorted(task.glob("*.json")):
            if path.name == "requests.json":
                continue
            try:
                policy = parse_policy(path.read_text(), source=str(path))
            except ValueError:
                continue
            if spec.exists():
                for r in json.loads(spec.read_text()):
                    pairs.append((policy, Request(action=r["Action"], resource=r.get("Resource", "*"))))
            pairs.extend((policy, r) for r in _generated(policy, rng, 30))
    return pairs


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "shared" / "datasets"
    pairs = _suite(root)
    for policy, request in pairs:  # warm the pattern caches, as a long-running process would have them
        evaluate(policy, request)
    # Per CPU-second, best of five one-second runs: on a shared machine wall time measures the neighbours.
    rate = 0.0
    for _ in range(5):
        decisions = 0
        start = time.process_time()
        while time.process_time() - start < 1.0:
            for policy, request in pairs:
                evaluate(policy, request)
            decisions += len(pairs)
        rate = max(rate, decisions / (time.process_time() - start))
    allowed = sum(evaluate(p, r).allowed for p, r in pairs)
    print(f"requests: {len(pairs)} ({allowed} allowed) over {len({id(p) for p, _ in pairs})} policies")
    print(f"concrete evaluator: {rate:,.0f} decisions per CPU-second on one core (best of 5)")
    start = time.perf_counter()
    disagreements, unknown = [], 0
    for policy, request in pairs:
        symbolic = decide(policy, request)
        if symbolic.status == "unknown":
            unknown += 1
        elif (symbolic.status == "sat") != evaluate(policy, request).allowed:
            disagreements.append((policy.source, request.to_json()))
    took = time.perf_counter() - start
    print(
        f"symbolic engine: {len(pairs) / took:,.0f} decisions/s; unknown: {unknown}; disagreements: {len(disagreements)}"
    )
    for source, request in disagreements[:20]:
        print(f"  {source}: {json.dumps(request)}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
