"""The engine is safe to call from several threads at once (the server runs agents on worker threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from policies.parse import load_policy
from verifiers.iam import compare, explain

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


def test_concurrent_compares_and_explains_give_the_sequential_answers() -> None:
    names = ["s3-read.json", "s3-read-write.json", "s3-too-broad.json"]
    policies = [load_policy(str(EXAMPLES / n)) for n in names]
    pairs = [(a, b) for a in policies for b in policies]
    expected = [compare(a, b).relation for a, b in pairs]

    def work(i: int) -> tuple[str, int]:
        a, b = pairs[i % len(pairs)]
        return compare(a, b).relation, len(explain(a).allows)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(60)))
    assert [r for r, _ in results] == [expected[i % len(pairs)] for i in range(60)]
    assert all(n >= 1 for _, n in results)
