"""Rebuild `eval/data/` from the gathered public datasets: `python -m eval.data_build ../shared/datasets`.

Only folders the dataset index marks "ship" are read, and only data (never code) is copied, in a compact
form: policies deduplicated by content, JSON Lines rows, the larger text sets gzipped. Each output folder
keeps the upstream licence and a SOURCE.md saying what was taken and how it was transformed.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

__all__ = ["build_all", "main"]

DATA_DIR = Path(__file__).parent / "data"

_QUACKY_RELATION = {
    ("UNSAT", "UNSAT"): "equivalent",
    ("UNSAT", "SAT"): "less_permissive",
    ("SAT", "UNSAT"): "more_permissive",
    ("SAT", "SAT"): "incomparable",
}
_ACP_RELATION = {
    "Policy 1 and Policy 2 are equivalent.": "equivalent",
    "Policy 1 is less permissive than Policy 2.": "less_permissive",
    "Policy 1 is more permissive than Policy 2.": "more_permissive",
    "Policy 1 and Policy 2 do not subsume each other.": "incomparable",
}


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _digest(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]


def _write_jsonl(path: Path, rows: list[dict[str, Any]], *, gz: bool = False) -> None:
    text = "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    if gz:
        # mtime=0 keeps the archive byte-identical across rebuilds.
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.write(text.encode("utf-8"))
    else:
        path.write_text(text, encoding="utf-8")


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _fresh(name: str) -> Path:
    out = DATA_DIR / name
    for old in out.glob("*"):
        if old.is_file() and old.name != "SOURCE.md":
            old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def build_quacky(src: Path) -> None:
    """The 29 originals with mutants, the 156 distinct mutant texts, and the ICSE'22 label of each pair."""
    out = _fresh("quacky")
    shutil.copyfile(src / "LICENSE", out / "LICENSE")
    policies: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for service in ("ec2", "iam", "s3"):
        table = src / "results/icse22/raw_csv/encoding_mutations" / f"{service}.csv"
        with table.open(newline="", encoding="utf-8") as fh:
            for rec in csv.reader(fh):
                if rec[0] == "Policy 1":
                    continue
                original_path, mutant_path = rec[0], rec[1]
                parts = mutant_path.split("/")  # /samples/mutations/<svc>/exp_single/<name>/<stem>/<file>
                original_id = f"{parts[3]}/{parts[5]}/{parts[6]}"
                policies.setdefault(original_id, _load_json(src / original_path.lstrip("/")))
                mutant = _load_json(src / mutant_path.lstrip("/"))
                mutant_id = f"m-{_digest(mutant)}"
                policies.setdefault(mutant_id, mutant)
                rows.append(
                    {
                        "id": f"{original_id}#{parts[7].removesuffix('.json')}",
                        "service": service,
                        "original": original_id,
                        "mutant": mutant_id,
                        "mutant_file": parts[7],
                        "label": _QUACKY_RELATION[(rec[2].strip(), rec[9].strip())],
                    }
                )
    rows.sort(key=lambda r: r["id"])
    _write_json(out / "policies.json", policies)
    _write_jsonl(out / "pairs.jsonl", rows)


def build_acp(src: Path) -> None:
    """The second label set of the 546 pairs, the 41 originals, and every recorded rebuilt policy."""
    out = _fresh("llm-acp-synthesis")
    shutil.copyfile(src / "LICENSE", out / "LICENSE")
    labels = []
    for rec in _load_json(src / "policysummarizer/results_mutation/mutation_results.json"):
        verdict = rec["verdict"]
        labels.append(
            {
                "id": f"{rec['policy_name']}#{rec['mutant_file'].removesuffix('.json')}",
                "label": _ACP_RELATION.get(verdict, "error"),
                "verdict": verdict,
            }
        )
    labels.sort(key=lambda r: r["id"])
    _write_jsonl(out / "mutation_labels.jsonl", labels)
    originals = {str(n): _load_json(src / "Dataset" / f"{n}.json") for n in range(41)}
    _write_json(out / "originals.json", originals)

    results = src / "CPCA/experiment_results"
    claude: dict[str, dict[str, Any]] = {}
    for rec in _load_json(results / "experiment_0_results.json"):
        if rec.get("results"):
            claude[rec["policy_file"].removesuffix(".json")] = rec["results"]
    records = []
    for path in sorted(results.glob("reconstructed_*.json")):
        model, number = path.stem.removeprefix("reconstructed_").rsplit("_", 1)
        row: dict[str, Any] = {"policy": number, "model": model, "rebuilt": _load_json(path)}
        extra = claude.get(number) if model == "claude-3.5-sonnet" else None
        if extra:
            row["description"] = extra["original_explanation"]
            row["paper_equivalent"] = extra["semantic_equivalence"]["semantic_equivalent"]
            preds = extra["request_predictions"]
            row["requests"] = [
                {**req, "expected": exp}
                for req, exp in zip(preds["requests"], preds["expected"], strict=False)
            ]
        records.append(row)
    records.sort(key=lambda r: (r["model"], int(r["policy"])))
    _write_jsonl(out / "records.jsonl", records)


def build_quacky_repair(src: Path) -> None:
    """The 37 repair tasks: policy files and the requests that must stay allowed."""
    out = _fresh("quacky-repair")
    shutil.copyfile(src / "LICENSE", out / "LICENSE")
    tasks = []
    for folder in sorted((src / "samples/repair").iterdir()):
        info = (folder / "info.txt").read_text(encoding="utf-8") if (folder / "info.txt").exists() else ""
        source = info.split("=", 1)[1].strip() if "=" in info else ""
        policies = {p.name: _load_json(p) for p in sorted(folder.glob("*.json")) if p.name != "requests.json"}
        tasks.append(
            {
                "id": folder.name,
                "source": source,
                "policies": policies,
                "must_allow": _load_json(folder / "requests.json"),
            }
        )
    _write_jsonl(out / "tasks.jsonl", tasks)


_GRADABLE = {"yes", "yes-with-rbac"}


def build_k8s_ai_bench(src: Path, apache: Path) -> None:
    """All 26 core tasks (the sandbox runs pods now) and the gatekeeper audits gradable without a kubelet,
    with their manifests inline."""
    out = _fresh("k8s-ai-bench")
    shutil.copyfile(apache, out / "LICENSE")
    rows = []
    for line in (src / "tasks.jsonl").read_text(encoding="utf-8").splitlines():
        task = json.loads(line)
        gradable = task["gradable_without_kubelet"] in _GRADABLE and not task["disabled"]
        if task["suite"] != "core" and not gradable:
            continue
        folder = src / "tasks" / task["id"]
        files = {}
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.suffix in {".yaml", ".yml", ".md"}:
                files[str(p.relative_to(folder))] = p.read_text(encoding="utf-8")
        task["files"] = files
        rows.append(task)
    _write_jsonl(out / "tasks.jsonl", rows)


def build_holmesgpt(src: Path, apache: Path) -> None:
    """The cases that ship recorded tool outputs, each with its test_case.yaml and mock files inline."""
    out = _fresh("holmesgpt-evals")
    shutil.copyfile(apache, out / "LICENSE")
    rows = []
    for line in (src / "index.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if case["n_mock_tool_outputs"] <= 0:
            continue
        folder = src / "fixtures" / case["id"]
        case["files"] = {
            str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        rows.append(case)
    _write_jsonl(out / "cases.jsonl.gz", rows, gz=True)


def build_all(shared: Path, apache_licence: Path) -> None:
    build_quacky(shared / "quacky")
    build_acp(shared / "llm-acp-synthesis")
    build_quacky_repair(shared / "quacky-repair")
    build_k8s_ai_bench(shared / "k8s-ai-bench", apache_licence)
    build_holmesgpt(shared / "holmesgpt-evals", apache_licence)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m eval.data_build SHARED_DATASETS_DIR APACHE_LICENSE_TEXT", file=sys.stderr)
        return 2
    build_all(Path(args[0]), Path(args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
