"""`iam-synthesis`: policies rebuilt from natural-language descriptions, scored by equivalence.

Without a model (the default) the suite scores the shipped records: the policies several commercial
models rebuilt from their own descriptions of the 41 forum policies (Vatsa, Hall, Eiers 2025). Our
engine compares each with its original, which reproduces the paper's table offline, per model, with
proofs instead of a model counter. With `--dataset live` (or a non-offline `--model`), the run model
does the loop itself: describe the original, rebuild a policy from that description alone, compare.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_synthesis_originals, load_synthesis_records
from eval.iam_engine import RELATIONS, engine_function, engine_unavailable, parse
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table

__all__ = ["DESCRIBE_PROMPT", "REBUILD_PROMPT", "IamSynthesisSuite", "extract_policy"]

DESCRIBE_PROMPT = (
    "Describe precisely, in plain English, what this AWS IAM policy allows and denies: every action, "
    "resource and condition, so that someone could rewrite the policy from your description alone. "
    "Do not quote the JSON.\n\n{policy}"
)
REBUILD_PROMPT = (
    "Write the AWS IAM policy (JSON only, Version 2012-10-17) that implements exactly this description:\n\n"
    "{description}"
)


def extract_policy(text: str) -> Any:
    """The first JSON object in a model's answer (fenced or bare)."""
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    candidate = fenced.group(1) if fenced else text[text.find("{") : text.rfind("}") + 1]
    if not candidate:
        raise ValueError("the answer holds no JSON policy")
    return json.loads(candidate)


def _live(options: RunOptions) -> bool:
    return options.dataset == "live" or bool(options.model and options.model != "offline")


class IamSynthesisSuite(Suite):
    name = "iam-synthesis"
    description = (
        "Policies rebuilt from natural-language descriptions, compared with the originals by our engine "
        "(recorded rebuilds of commercial models offline; the describe-rebuild-compare loop with a model)."
    )
    datasets = ("synthesis",)
    uses_model = True

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return engine_unavailable("parse_policy", "parse_request", "evaluate", "compare")

    def cases(self, options: RunOptions) -> list[Case]:
        originals = load_synthesis_originals()
        if _live(options):
            return [
                Case(id=f"live/{n}", data={"policy": n, "original": originals[n]})
                for n in sorted(originals, key=int)
            ]
        records = load_synthesis_records()
        if options.dataset:
            records = [r for r in records if r.model == options.dataset]
        return [
            Case(
                id=f"{r.model}/{r.policy}",
                data={
                    "model": r.model,
                    "policy": r.policy,
                    "original": originals[r.policy],
                    "rebuilt": r.rebuilt,
                    "paper_equivalent": r.paper_equivalent,
                    "requests": r.requests,
                },
            )
            for r in records
        ]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        detail: dict[str, Any] = {}
        if case.id.startswith("live/"):
            from langchain_core.messages import HumanMessage

            model = env.chat_model()
            policy_text = json.dumps(case.data["original"], indent=1)
            description = model.invoke([HumanMessage(DESCRIBE_PROMPT.format(policy=policy_text))]).text
            answer = model.invoke([HumanMessage(REBUILD_PROMPT.format(description=description))]).text
            detail["description"] = description[:2000]
            try:
                rebuilt = extract_policy(answer)
            except ValueError as exc:
                return CaseOutcome(
                    passed=False,
                    score=0.0,
                    metrics={"model": "live", "relation": "no_policy"},
                    detail={**detail, "summary": f"no policy in the model's answer: {exc}"},
                )
        else:
            rebuilt = case.data["rebuilt"]
        original = parse(case.data["original"])
        try:
            candidate = parse(rebuilt)
        except ValueError as exc:  # PolicyParseError is a ValueError: the rebuilt text is not a valid policy
            return CaseOutcome(
                passed=False,
                score=0.0,
                metrics={"model": case.data.get("model", "live"), "relation": "invalid_policy"},
                detail={"summary": f"rebuilt policy does not parse: {exc}"},
            )
        comparison = engine_function("compare")(original, candidate)
        relation = str(getattr(comparison.relation, "value", comparison.relation))
        metrics: dict[str, Any] = {"model": case.data.get("model", "live"), "relation": relation}
        if case.data.get("paper_equivalent") is not None:
            metrics["paper_equivalent"] = case.data["paper_equivalent"]
        requests = case.data.get("requests") or []
        if requests:
            evaluate, parse_request = engine_function("evaluate"), engine_function("parse_request")
            parsed = [parse_request(r) for r in requests]
            wanted = [r.get("expected") for r in requests]
            ours = ["Allow" if evaluate(original, q).decision == "Allowed" else "Deny" for q in parsed]
            theirs = ["Allow" if evaluate(candidate, q).decision == "Allowed" else "Deny" for q in parsed]
            metrics["request_labels_agree"] = sum(a == b for a, b in zip(ours, wanted, strict=True)) / len(
                parsed
            )
            metrics["rebuilt_request_accuracy"] = sum(
                a == b for a, b in zip(theirs, ours, strict=True)
            ) / len(parsed)
        cx = [c.request.to_json() for c in getattr(comparison, "counterexamples", ())][:2]
        return CaseOutcome(
            passed=relation == "equivalent",
            score=1.0 if relation == "equivalent" else 0.0,
            metrics=metrics,
            detail={**detail, "summary": relation, "counterexamples": cx},
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        by_model: dict[str, list[CaseResult]] = defaultdict(list)
        for r in results:
            by_model[str(r.metrics.get("model", r.id.split("/")[0]))].append(r)
        rows, rates = [], {}
        for model, group in sorted(by_model.items()):
            rel = Counter(str(r.metrics.get("relation", r.status)) for r in group)
            rate = round(rel["equivalent"] / len(group), 4)
            rates[model] = rate
            rows.append(
                [
                    model,
                    len(group),
                    *[rel.get(k, 0) for k in RELATIONS],
                    len(group) - sum(rel[k] for k in RELATIONS),
                    rate,
                ]
            )
        paper = [r for r in results if "paper_equivalent" in r.metrics]
        paper_rows = []
        if paper:
            both = Counter(
                (bool(r.metrics["paper_equivalent"]), r.metrics["relation"] == "equivalent") for r in paper
            )
            paper_rows = [
                ["paper equivalent, ours equivalent", both[(True, True)]],
                ["paper equivalent, ours not", both[(True, False)]],
                ["paper not equivalent, ours equivalent", both[(False, True)]],
                ["paper not equivalent, ours not", both[(False, False)]],
            ]
        labelled = [r.metrics["request_labels_agree"] for r in results if "request_labels_agree" in r.metrics]
        metrics: dict[str, Any] = {
            "equivalence_rate": rates,
            "paper_agreement": (
                round(
                    sum(
                        r.metrics["paper_equivalent"] == (r.metrics["relation"] == "equivalent")
                        for r in paper
                    )
                    / len(paper),
                    4,
                )
                if paper
                else None
            ),
            "request_labels_agree_mean": round(sum(labelled) / len(labelled), 4) if labelled else None,
        }
        tables = [
            Table(
                title="Rebuilt policies by model: relation of the original to the rebuilt policy",
                headers=["model", "policies", *RELATIONS, "invalid or missing", "equivalence rate"],
                rows=rows,
            )
        ]
        if paper_rows:
            tables.append(
                Table(
                    title="Our verdict vs the paper's Quacky verdict (claude-3.5-sonnet)",
                    headers=["", "policies"],
                    rows=paper_rows,
                )
            )
        return SuiteSummary(
            metrics=metrics,
            tables=tables,
            charts=[
                Chart(
                    title="Equivalent rebuilds per model",
                    labels=list(rates),
                    series={"equivalence rate": list(rates.values())},
                )
            ],
        )
