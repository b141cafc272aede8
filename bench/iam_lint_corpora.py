"""Benchmark: `lint` over the policy corpora, findings counted by kind and severity.

Usage: python bench/iam_lint_corpora.py [DATASETS_DIR]   (default ../shared/datasets)

Corpora: Quacky (the project's copy in `eval/data/quacky`: 29 originals, 156 distinct mutants, and the
forum pairs; plus every AWS policy under DATASETS_DIR/quacky/samples) and CloudFix (the 6 original
policies of DATASETS_DIR/cloudfix). Identical texts are linted once. A policy that does not parse counts
under the parser's code (`JSON_SYNTAX_ERROR`, `INVALID_POLICY_ELEMENT`, ...). Prints one line per (corpus, severity, kind) and the time per policy.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eval.datasets import load_policies
from verifiers.iam.lint import lint_text

__all__ = ["corpora", "main"]


def _aws_policy(doc: Any) -> bool:
    return isinstance(doc, dict) and "Statement" in doc


def corpora(root: Path) -> dict[str, dict[str, str]]:
    """Corpus name -> {source name: policy text}, distinct texts only."""
    quacky: dict[str, str] = {name: json.dumps(doc) for name, doc in load_policies().items()}
    for path in sorted((root / "quacky" / "samples").rglob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            continue
        if _aws_policy(doc):
            quacky[str(path.relative_to(root))] = path.read_text()
    cloudfix = {
        str(p.relative_to(root)): p.read_text()
        for p in sorted((root / "cloudfix").rglob("original_policy/*.json"))
    }
    out = {}
    for name, texts in (("quacky", quacky), ("cloudfix", cloudfix)):
        seen: dict[str, str] = {}
        for source, text in texts.items():
            seen.setdefault(json.dumps(json.loads(text), sort_keys=True), source)
        out[name] = {source: text for text, source in seen.items()}
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "shared" / "datasets"
    for corpus, texts in corpora(root).items():
        counts: Counter[tuple[str, str]] = Counter()
        flagged = 0
        start = time.perf_counter()
        for source, text in texts.items():
            findings = lint_text(text, path=source)
            flagged += bool(findings)
            counts.update((f.severity, f.code) for f in findings)
        took = time.perf_counter() - start
        print(
            f"{corpus}: {len(texts)} distinct policies, {flagged} with findings, "
            f"{sum(counts.values())} findings, {1000 * took / max(1, len(texts)):.1f} ms per policy"
        )
        for (severity, kind), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n:>5}  {severity:<16} {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
