"""Each loader on the shipped data: counts match the SOURCE notes, labels and ids join, nothing is missing."""

from __future__ import annotations

from collections import Counter

from eval.datasets import (
    DATA_DIR,
    OWN_DATASETS,
    list_datasets,
    load_holmes_cases,
    load_k8s_tasks,
    load_policies,
    load_quacky_pairs,
    load_repair_tasks,
    load_routing_requests,
    load_synthesis_originals,
    load_synthesis_records,
)


def test_quacky_pairs_carry_both_published_label_sets() -> None:
    pairs = load_quacky_pairs()
    assert len(pairs) == 546
    assert Counter(p.service for p in pairs) == {"ec2": 240, "iam": 26, "s3": 280}
    icse = Counter(p.labels["quacky-icse22"] for p in pairs)
    assert icse == {"less_permissive": 308, "equivalent": 156, "more_permissive": 50, "incomparable": 32}
    acp = Counter(p.labels["acp-2025"] for p in pairs)
    assert acp == {
        "less_permissive": 302,
        "equivalent": 126,
        "more_permissive": 48,
        "incomparable": 44,
        "error": 26,
    }
    policies = load_policies()
    assert all(p.original in policies and p.mutant in policies for p in pairs)
    assert len({p.mutant for p in pairs}) == 156 and len({p.original for p in pairs}) == 29


def test_repair_tasks() -> None:
    tasks = load_repair_tasks()
    assert len(tasks) == 37
    assert sum(len(t.policies) for t in tasks) == 43
    assert sum(len(t.must_allow) for t in tasks) == 486
    assert all(r["Action"] and r["Resource"] for t in tasks for r in t.must_allow)


def test_synthesis_records() -> None:
    records = load_synthesis_records()
    originals = load_synthesis_originals()
    assert len(originals) == 41 and len(records) == 138
    assert Counter(r.model for r in records)["gpt-4.1-nano"] == 41
    described = [r for r in records if r.description]
    assert len(described) == 38 and all(r.model == "claude-3.5-sonnet" for r in described)
    assert sum(bool(r.paper_equivalent) for r in described) == 12  # the paper's own count
    assert all(r.policy in originals for r in records)


def test_k8s_tasks_are_the_core_tasks_and_the_gradable_audits() -> None:
    tasks = load_k8s_tasks()
    assert len(tasks) == 56
    core = [t for t in tasks if t.suite == "core"]
    assert len(core) == 25 and [t.id for t in core if t.disabled] == ["fix-oomkilled"]
    gatekeeper = [t for t in tasks if t.suite == "gatekeeper"]
    assert {t.gradable_without_kubelet for t in gatekeeper} == {"yes"}
    assert len(gatekeeper) == 31 and all(t.expect for t in gatekeeper)
    assert all(any(name.startswith("artifacts/") for name in t.files) for t in gatekeeper)


def test_holmes_cases_ship_recorded_tool_outputs() -> None:
    cases = load_holmes_cases()
    assert len(cases) == 75
    with_mocks = [c for c in cases if any(t.startswith('{"toolset_name"') for t in c.files.values())]
    # Three cases keep their recorded data in other files (see SOURCE.md); the rest have mock outputs.
    assert len(with_mocks) == 72
    assert all("test_case.yaml" in c.files for c in cases)


def test_routing_corpus_is_our_own_and_large_enough() -> None:
    requests = load_routing_requests()
    assert len(requests) >= 150
    assert len({r.id for r in requests}) == len(requests)
    kinds = Counter(r.kind for r in requests)
    assert kinds["cross"] >= 20 and kinds["none"] >= 5
    assert all(len(r.expected) >= 2 for r in requests if r.kind == "cross")
    assert {a for r in requests for a in r.expected} == {"kubernetes", "iam", "cost"}


def test_every_shipped_folder_has_licence_and_source_note() -> None:
    infos = list_datasets()
    assert {i.name for i in infos} >= {
        "quacky-pairs",
        "quacky-repair",
        "synthesis",
        "k8s-ai-bench",
        "holmesgpt",
        "routing",
        "iam-questions",
    }
    for folder in DATA_DIR.iterdir():
        if folder.is_dir():
            assert (folder / "SOURCE.md").is_file(), folder
            assert folder.name in OWN_DATASETS or (folder / "LICENSE").is_file(), folder
