"""Benchmark: compare every original/mutant pair of the Quacky corpus (546 pairs) with the Z3 engine.

Usage: python bench/iam_compare.py

Reads the pairs and both published label sets (Quacky's ICSE'22 CSVs and llm-acp-synthesis's
mutation_results.json) from the project's copy in `eval/data/`, and prints the wall time, the relation
counts, `unknown` count, and agreement with each label set, listing the disagreements.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

from eval.datasets import load_policies, load_quacky_pairs
from eval.iam_engine import RELATIONS
from policies import parse_policy
from verifiers.iam.compare import compare

__all__ = ["main"]


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python bench/iam_compare.py (the pairs come from eval/data/)", file=sys.stderr)
        return 2
    pairs = load_quacky_pairs()
    policies = load_policies()
    found: Counter[str] = Counter()
    agree = {"quacky": 0, "llm": 0}
    llm_total = 0
    disagreements = []
    slowest = (0.0, "")
    start = time.perf_counter()
    for pair in pairs:
        label = pair.labels["quacky-icse22"]
        p1 = parse_policy(policies[pair.original], source=pair.original)
        p2 = parse_policy(policies[pair.mutant], source=pair.id)
        t0 = time.perf_counter()
        result = compare(p1, p2)
        took = time.perf_counter() - t0
        slowest = max(slowest, (took, pair.id))
        found[result.relation] += 1
        agree["quacky"] += result.relation == label
        other = pair.labels.get("acp-2025", "missing")
        if other in RELATIONS[:4]:
            llm_total += 1
            agree["llm"] += result.relation == other
        if result.relation != label or (other in RELATIONS[:4] and result.relation != other):
            ce = result.counterexamples[0].request.to_json() if result.counterexamples else None
            disagreements.append((pair.id, result.relation, label, other, ce, result.reason))
    wall = time.perf_counter() - start
    print(
        f"pairs: {len(pairs)}  wall: {wall:.2f} s  mean: {1000 * wall / len(pairs):.1f} ms  slowest: {slowest[0] * 1000:.0f} ms ({slowest[1]})"
    )
    print(f"relations: {dict(found)}")
    print(f"agreement with Quacky ICSE'22 labels: {agree['quacky']}/{len(pairs)}")
    print(
        f"agreement with llm-acp-synthesis labels: {agree['llm']}/{llm_total} (others are its errors/timeouts)"
    )
    print(f"disagreements ({len(disagreements)}):")
    for mutant, ours, label, other, ce, reason in disagreements:
        print(f"  {mutant}: ours={ours} quacky={label} llm={other} counterexample={json.dumps(ce)} {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
