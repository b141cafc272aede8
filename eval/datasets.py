"""Loaders for the datasets shipped in `eval/data/`, one per format, and the catalogue that lists them.

Each loader reads only the project's own copy (never `../shared`), so the suite runs from an installed
package. Policies stay plain JSON dicts here: parsing them is the IAM engine's job, and a suite reports
a policy the engine rejects as a case error rather than failing to load the whole dataset.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "DATA_DIR",
    "OWN_DATASETS",
    "DatasetInfo",
    "HolmesCase",
    "IamQuestion",
    "K8sTask",
    "LabelSet",
    "QuackyPair",
    "RepairTask",
    "RoutingRequest",
    "SynthesisRecord",
    "list_datasets",
    "load_holmes_cases",
    "load_iam_questions",
    "load_k8s_tasks",
    "load_policies",
    "load_quacky_pairs",
    "load_repair_tasks",
    "load_routing_requests",
    "load_synthesis_originals",
    "load_synthesis_records",
]

DATA_DIR = Path(__file__).parent / "data"

Relation = Literal["equivalent", "less_permissive", "more_permissive", "incomparable", "error"]
LabelSet = Literal["quacky-icse22", "acp-2025"]


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from exc


class QuackyPair(BaseModel):
    """One original/mutant pair with both published labels (the original's relation to the mutant)."""

    id: str
    service: str
    original: str = Field(description="policy id in `load_policies()`")
    mutant: str = Field(description="policy id in `load_policies()`")
    mutant_file: str
    labels: dict[LabelSet, Relation]


class RepairTask(BaseModel):
    """A quacky-repair task: one or more policy files and the requests that must stay allowed."""

    id: str
    source: str
    policies: dict[str, dict[str, Any]]
    must_allow: list[dict[str, Any]]


class SynthesisRecord(BaseModel):
    """A policy a commercial model rebuilt from its own description of an original forum policy."""

    policy: str
    model: str
    rebuilt: Any
    description: str | None = None
    paper_equivalent: bool | None = None
    requests: list[dict[str, Any]] = Field(default_factory=list)


class K8sTask(BaseModel):
    """A k8s-ai-bench task: a core task, or a gatekeeper audit gradable without a kubelet."""

    id: str
    suite: str
    prompt: str
    difficulty: str | None = None
    grader: str
    disabled: bool = False
    expect: list[dict[str, str]] | None = None
    verifier_summary: str
    gradable_without_kubelet: str
    files: dict[str, str]


class HolmesCase(BaseModel):
    """A HolmesGPT troubleshooting case with its recorded tool outputs."""

    id: str
    suite: str
    user_prompt: str | list[Any] | None
    expected_output: list[str] | str | None
    tags: list[str] | None = None
    skip: bool | str | None = False
    files: dict[str, str]


class RoutingRequest(BaseModel):
    """A request of the project's own routing corpus and the agents that should act on it, in order."""

    id: str
    text: str
    expected: list[Literal["kubernetes", "iam", "cost"]]
    kind: Literal["single", "cross", "none"]


class IamQuestion(BaseModel):
    """A request about IAM in plain words, from the project's own `iam-questions` set.

    `check`: may `request` happen under `policy`? (the truth is the Z3 engine's decision, not a label).
    `write`: a policy doing what `text` asks; `reference` is one that does exactly that, `must_allow` the
    requests it must allow."""

    id: str
    kind: Literal["check", "write"]
    text: str
    policy_name: str | None = None
    policy: dict[str, Any] | None = None
    request: dict[str, Any] | None = None
    reference: dict[str, Any] | None = None
    must_allow: list[dict[str, Any]] = []


@cache
def load_policies() -> dict[str, dict[str, Any]]:
    """Quacky's originals and distinct mutants by id."""
    policies: dict[str, dict[str, Any]] = json.loads((DATA_DIR / "quacky/policies.json").read_text())
    return policies


def load_quacky_pairs() -> list[QuackyPair]:
    """The 546 original/mutant pairs, each with the ICSE'22 label and the 2025 relabelling."""
    acp = {row["id"]: row["label"] for row in _rows(DATA_DIR / "llm-acp-synthesis/mutation_labels.jsonl")}
    pairs = []
    for row in _rows(DATA_DIR / "quacky/pairs.jsonl"):
        labels = {"quacky-icse22": row.pop("label")}
        if row["id"] in acp:
            labels["acp-2025"] = acp[row["id"]]
        pairs.append(QuackyPair.model_validate({**row, "labels": labels}))
    return pairs


def load_repair_tasks() -> list[RepairTask]:
    return [RepairTask(**row) for row in _rows(DATA_DIR / "quacky-repair/tasks.jsonl")]


def load_synthesis_originals() -> dict[str, dict[str, Any]]:
    """The 41 forum policies the synthesis records describe and rebuild, by number ("0".."40")."""
    originals: dict[str, dict[str, Any]] = json.loads(
        (DATA_DIR / "llm-acp-synthesis/originals.json").read_text()
    )
    return originals


def load_synthesis_records() -> list[SynthesisRecord]:
    return [SynthesisRecord(**row) for row in _rows(DATA_DIR / "llm-acp-synthesis/records.jsonl")]


def load_k8s_tasks() -> list[K8sTask]:
    return [K8sTask(**row) for row in _rows(DATA_DIR / "k8s-ai-bench/tasks.jsonl")]


def load_holmes_cases() -> list[HolmesCase]:
    return [HolmesCase(**row) for row in _rows(DATA_DIR / "holmesgpt-evals/cases.jsonl.gz")]


def load_routing_requests(*, holdout: bool = False) -> list[RoutingRequest]:
    """The 180-request routing corpus, or (`holdout`) the 40 requests written after the router was tuned
    on it, to measure how far that tuning carries to requests it never saw."""
    name = "holdout.jsonl" if holdout else "requests.jsonl"
    return [RoutingRequest(**row) for row in _rows(DATA_DIR / "routing" / name)]


def load_iam_questions() -> list[IamQuestion]:
    return [IamQuestion(**row) for row in _rows(DATA_DIR / "iam-questions/questions.jsonl")]


def _mock_count(case: HolmesCase) -> int:
    return sum(1 for text in case.files.values() if text.startswith('{"toolset_name"'))


@dataclass(frozen=True)
class DatasetInfo:
    """One row of `opsgraph eval datasets`."""

    name: str
    folder: str
    licence: str
    count: int
    unit: str
    detail: str


OWN_DATASETS = ("routing", "iam-questions")
"""Folders written for opsgraph by the project: no third-party text, no LICENSE file of their own."""


def _licence(folder: str) -> str:
    text = (DATA_DIR / folder / "LICENSE").read_text(encoding="utf-8") if folder not in OWN_DATASETS else ""
    if "Apache License" in text:
        return "Apache-2.0"
    if "MIT" in text.split("\n", 2)[0] or "Permission is hereby granted" in text:
        return "MIT"
    if "Regents of the University of California" in text:
        return "BSD (UC Regents)"
    return "project's own"


def list_datasets() -> list[DatasetInfo]:
    """Every shipped dataset with its count, computed from the files (nothing hard-coded)."""
    pairs = load_quacky_pairs()
    tasks = load_repair_tasks()
    records = load_synthesis_records()
    k8s = load_k8s_tasks()
    holmes = load_holmes_cases()
    routing = load_routing_requests()
    questions = load_iam_questions()
    models = sorted({r.model for r in records})
    return [
        DatasetInfo(
            "quacky-pairs",
            "quacky",
            _licence("quacky"),
            len(pairs),
            "pairs",
            f"{len({p.original for p in pairs})} originals, {len({p.mutant for p in pairs})} distinct mutants, "
            f"{sum('acp-2025' in p.labels for p in pairs)} with a second label",
        ),
        DatasetInfo(
            "quacky-repair",
            "quacky-repair",
            _licence("quacky-repair"),
            len(tasks),
            "tasks",
            f"{sum(len(t.policies) for t in tasks)} policies, {sum(len(t.must_allow) for t in tasks)} must-allow requests",
        ),
        DatasetInfo(
            "synthesis",
            "llm-acp-synthesis",
            _licence("llm-acp-synthesis"),
            len(records),
            "rebuilt policies",
            f"{len(load_synthesis_originals())} originals; models: {', '.join(models)}",
        ),
        DatasetInfo(
            "k8s-ai-bench",
            "k8s-ai-bench",
            _licence("k8s-ai-bench"),
            len(k8s),
            "tasks",
            f"{sum(t.suite == 'gatekeeper' for t in k8s)} gatekeeper audits, {sum(t.suite == 'core' for t in k8s)} core",
        ),
        DatasetInfo(
            "holmesgpt",
            "holmesgpt-evals",
            _licence("holmesgpt-evals"),
            len(holmes),
            "cases",
            f"{sum(_mock_count(c) for c in holmes)} recorded tool outputs",
        ),
        DatasetInfo(
            "routing",
            "routing",
            _licence("routing"),
            len(routing),
            "requests",
            ", ".join(
                f"{kind} {sum(r.kind == kind for r in routing)}" for kind in ("single", "cross", "none")
            )
            + f"; {len(load_routing_requests(holdout=True))} held out",
        ),
        DatasetInfo(
            "iam-questions",
            "iam-questions",
            _licence("iam-questions"),
            len(questions),
            "requests",
            f"check {sum(q.kind == 'check' for q in questions)} "
            f"(on {len({q.policy_name for q in questions if q.kind == 'check'})} policies), "
            f"write {sum(q.kind == 'write' for q in questions)}",
        ),
    ]
