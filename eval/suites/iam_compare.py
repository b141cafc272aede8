"""`iam-compare`: our engine's relation for every Quacky original/mutant pair, against both label sets.

A case passes when the engine decides the relation (not `unknown`) and the concrete evaluator confirms
every counterexample it gives. Agreement with each published label set is reported separately: a label
is evidence to check, not ground truth, and each disagreement is listed with its counterexample, both
concrete decisions, and the AWS rule that decides it.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_policies, load_quacky_pairs
from eval.iam_engine import (
    RELATIONS,
    confirm_counterexample,
    counterexample_request,
    engine_function,
    engine_unavailable,
    parse,
    request_json,
)
from eval.iam_rules import RULES, deciding_rule
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table

__all__ = ["LABEL_SETS", "IamCompareSuite"]

LABEL_SETS = ("quacky-icse22", "acp-2025")
_MAX_COUNTEREXAMPLES = 3


def _statement(doc: Any, index: int) -> dict[str, Any]:
    raw = doc.get("Statement", []) if isinstance(doc, dict) else []
    items = raw if isinstance(raw, list) else [raw]
    return items[index] if 0 <= index < len(items) and isinstance(items[index], dict) else {}


class IamCompareSuite(Suite):
    name = "iam-compare"
    description = (
        "Relation of each Quacky original/mutant pair by our Z3 engine, checked against the ICSE'22 "
        "labels and the 2025 relabelling."
    )
    datasets = ("quacky-pairs",)

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return engine_unavailable("parse_policy", "evaluate", "compare")

    def cases(self, options: RunOptions) -> list[Case]:
        policies = load_policies()
        pairs = load_quacky_pairs()
        if options.dataset:
            pairs = [
                p
                for p in pairs
                if options.dataset in (p.service, p.original) or p.id.startswith(options.dataset)
            ]
        return [
            Case(
                id=p.id,
                data={
                    "original": policies[p.original],
                    "mutant": policies[p.mutant],
                    "labels": dict(p.labels),
                    "service": p.service,
                },
            )
            for p in pairs
        ]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        doc1, doc2 = case.data["original"], case.data["mutant"]
        p1, p2 = parse(doc1), parse(doc2)
        started = time.perf_counter()
        comparison = engine_function("compare")(p1, p2)
        seconds = time.perf_counter() - started
        relation = str(getattr(comparison.relation, "value", comparison.relation))
        cxs = list(getattr(comparison, "counterexamples", []) or [])
        shown: list[dict[str, Any]] = []
        confirmed = 0
        for cx in cxs:
            ok, d1, d2 = confirm_counterexample(p1, p2, cx)
            confirmed += ok
            if len(shown) < _MAX_COUNTEREXAMPLES:
                request = counterexample_request(cx)
                matched = [_statement(doc1, m.statement) for m in d1.matched] + [
                    _statement(doc2, m.statement) for m in d2.matched
                ]
                shown.append(
                    {
                        "request": request_json(request),
                        "original": d1.decision,
                        "mutant": d2.decision,
                        "confirmed": ok,
                        "rule": deciding_rule(doc1, doc2, matched, getattr(request, "context", {})),
                    }
                )
        labels: dict[str, str] = case.data["labels"]
        agree = {
            name: (labels[name] == relation) for name in LABEL_SETS if labels.get(name, "error") != "error"
        }
        rule = shown[0]["rule"] if shown else deciding_rule(doc1, doc2)
        decided = relation in RELATIONS[:4]
        return CaseOutcome(
            passed=decided and confirmed == len(cxs),
            score=1.0 if decided else 0.0,
            metrics={
                "relation": relation,
                "labels": labels,
                "agree": agree,
                "rule": rule,
                "solve_s": round(seconds, 6),
                "counterexamples": len(cxs),
                "confirmed": confirmed,
                "service": case.data["service"],
            },
            detail={
                "summary": f"{relation}; labels {labels}",
                "counterexamples": shown,
                "reason": str(getattr(comparison, "reason", "") or ""),
            },
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        ran = [r for r in results if "relation" in r.metrics]
        ours = Counter(r.metrics["relation"] for r in ran)
        metrics: dict[str, Any] = {
            "relations": dict(ours),
            "unknown": ours.get("unknown", 0),
            "counterexamples": sum(r.metrics["counterexamples"] for r in ran),
            "counterexamples_confirmed": sum(r.metrics["confirmed"] for r in ran),
            "agreement": {},
        }
        tables: list[Table] = []
        agreement_rows, disagreements = [], []
        for name in LABEL_SETS:
            labelled = [r for r in ran if name in r.metrics["agree"]]
            agreed = sum(r.metrics["agree"][name] for r in labelled)
            rate = round(agreed / len(labelled), 4) if labelled else None
            metrics["agreement"][name] = {"agree": agreed, "labelled": len(labelled), "rate": rate}
            agreement_rows.append([name, len(labelled), agreed, len(labelled) - agreed, rate])
            confusion = Counter((r.metrics["labels"][name], r.metrics["relation"]) for r in labelled)
            tables.append(
                Table(
                    title=f"Label {name} (rows) vs our relation (columns)",
                    headers=["label", *RELATIONS],
                    rows=[
                        [lab, *[confusion.get((lab, ours_), 0) for ours_ in RELATIONS]]
                        for lab in RELATIONS[:4]
                    ],
                )
            )
            for r in labelled:
                if not r.metrics["agree"][name]:
                    cx = (r.detail.get("counterexamples") or [{}])[0]
                    disagreements.append(
                        [
                            r.id,
                            name,
                            r.metrics["labels"][name],
                            r.metrics["relation"],
                            r.metrics["rule"],
                            cx.get("request", "none: the engine proves no request separates them that way"),
                            f"{cx.get('original', '')} / {cx.get('mutant', '')}" if cx else "",
                        ]
                    )
        by_rule = Counter(row[4] for row in disagreements)
        metrics["disagreements_by_rule"] = dict(by_rule)
        tables.insert(
            0,
            Table(
                title="Agreement with the published labels",
                headers=["label set", "labelled pairs", "agree", "disagree", "agreement"],
                rows=agreement_rows,
                note="acp-2025 has 26 pairs its tool timed out on; they carry no label and are left out.",
            ),
        )
        tables.append(
            Table(
                title="Disagreements by deciding rule (one row per pair and label set)",
                headers=["rule", "pairs", "AWS rule"],
                rows=[[rule, n, RULES[rule]] for rule, n in by_rule.most_common()],
            )
        )
        tables.append(
            Table(
                title="Disagreements",
                headers=[
                    "pair",
                    "label set",
                    "label",
                    "ours",
                    "rule",
                    "counterexample",
                    "original / mutant decision",
                ],
                rows=disagreements,
            )
        )
        chart = Chart(
            title="Agreement with each label set",
            labels=list(LABEL_SETS),
            series={"agreement": [metrics["agreement"][n]["rate"] or 0.0 for n in LABEL_SETS]},
            ylabel="share of labelled pairs",
        )
        return SuiteSummary(metrics=metrics, tables=tables, charts=[chart])
