"""Benchmark: compare every original/mutant pair of the Quacky corpus (546 pairs) with the Z3 engine.

Usage: python bench/iam_compare.py [DATASETS_DIR]   (default ../shared/datasets)

Prints the wall time, the relation counts, `unknown` count, and agreement with both published label
sets (Quacky's ICSE'22 CSVs and llm-acp-synthesis's mutation_results.json), listing the disagreements.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

from policies import parse_policy
from verifiers.iam.compare import compare

__all__ = ["main"]

_CSV_RELATION = {
    ("UNSAT", "UNSAT"): "equivalent",
    ("SAT", "UNSAT"): "more_permissive",
    ("UNSAT", "SAT"): "less_permissive",
    ("SAT", "SAT"): "incomparable",
}
_VERDICT = {
    "Policy 1 is less permissive than Policy 2.": "less_permissive",
    "Policy 1 is more permissive than Policy 2.": "more_permissive",
    "Policy 1 and Policy 2 are equivalent.": "equivalent",
    "Policy 1 and Policy 2 do not subsume each other.": "incomparable",
}


def _pairs(root: Path) -> list[tuple[str, str, str]]:
    out = []
    for name in ("ec2", "iam", "s3"):
        with (root / "quacky/results/icse22/raw_csv/encoding_mutations" / f"{name}.csv").open() as fh:
            rows = list(csv.reader(fh))
        for row in rows[1:]:
            out.append((row[0].lstrip("/"), row[1].lstrip("/"), _CSV_RELATION[(row[2], row[9])]))
    return out


def _llm_labels(root: Path) -> dict[str, str]:
    records = json.loads(
        (root / "llm-acp-synthesis/policysummarizer/results_mutation/mutation_results.json").read_text()
    )
    out = {}
    for r in records:
        svc, rest = r["policy_name"].split("/", 1)
        path = f"samples/mutations/{svc}/exp_single/{rest}/{r['mutant_file']}"
        out[path] = _VERDICT.get(r["verdict"], "error")
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "shared" / "datasets"
    pairs = _pairs(root)
    llm = _llm_labels(root)
    quacky = root / "quacky"
    found: Counter[str] = Counter()
    agree = {"quacky": 0, "llm": 0}
    llm_total = 0
    disagreements = []
    slowest = (0.0, "")
    start = time.perf_counter()
    for original, mutant, label in pairs:
        p1 = parse_policy((quacky / original).read_text(), source=original)
        p2 = parse_policy((quacky / mutant).read_text(), source=mutant)
        t0 = time.perf_counter()
        result = compare(p1, p2)
        took = time.perf_counter() - t0
        slowest = max(slowest, (took, mutant))
        found[result.relation] += 1
        agree["quacky"] += result.relation == label
        other = llm.get(mutant, "missing")
        if other in _VERDICT.values():
            llm_total += 1
            agree["llm"] += result.relation == other
        if result.relation != label or (other in _VERDICT.values() and result.relation != other):
            ce = result.counterexamples[0].request.to_json() if result.counterexamples else None
            disagreements.append((mutant, result.relation, label, other, ce, result.reason))
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
