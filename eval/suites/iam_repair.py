"""`iam-repair`: repair rate, time and permissiveness change of the symbolic repairer.

Two kinds of task:

- `quacky`: the 37 quacky-repair tasks (43 policy files). Quacky repairs a policy down to a permissiveness
  bound while its requests stay allowed; our counterpart of the bound is the `least_privilege` property
  (allow only actions that some must-allow request names), with the requests as must-allow.
- `cloudfix10` / `cloudfix50`: generated the way CloudFix builds its suites: for each of the 41 forum
  policies, 10 or 50 requests drawn around the policy, about 60% allowed and 40% denied by it, each
  expecting the policy's own decision, then a share (20%) of expectations flipped so the policy is wrong.

Every result is checked here, independently of the repairer's own claims: the repaired policy must give
every spec request its expected decision under the concrete evaluator. An `unsatisfiable` verdict is
correct only when the suite really contradicts itself (the same request, context included, expected both
allowed and denied: `contradictions`); any other suite of concrete requests has a repair (a statement
pinned to each request's action, resource and context values), so there `unsatisfiable` or `failed` is
a miss.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter, defaultdict
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_repair_tasks, load_synthesis_originals
from eval.iam_engine import engine_function, parse
from eval.iam_sampling import sample_request_dicts
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table, missing_modules

__all__ = ["FLIP_SHARE", "IamRepairSuite", "cloudfix_suite", "contradictions"]

FLIP_SHARE = 0.2
_GROUPS = ("quacky", "cloudfix10", "cloudfix50")
_REPAIR_MODULES = ("verifiers.iam.repair.repair", "verifiers.iam.repair.spec", "verifiers.iam.repair.measure")


def cloudfix_suite(doc: Any, size: int, seed: int) -> dict[str, Any]:
    """A CloudFix-format suite for `doc`: ~60% allowed / 40% denied requests, FLIP_SHARE of them flipped."""
    from policies import load_catalog

    evaluate, parse_request = engine_function("evaluate"), engine_function("parse_request")
    policy = parse(doc)
    allowed: list[dict[str, Any]] = []
    denied: list[dict[str, Any]] = []
    for raw in sample_request_dicts(doc, size * 8, seed, load_catalog()):
        (allowed if evaluate(policy, parse_request(raw)).decision == "Allowed" else denied).append(raw)
    want_allow = min(len(allowed), round(size * 0.6))
    chosen = [(r, "Allow") for r in allowed[:want_allow]] + [(r, "Deny") for r in denied[: size - want_allow]]
    rng = random.Random(f"flip:{seed}:{size}")
    flips = set(rng.sample(range(len(chosen)), max(1, round(len(chosen) * FLIP_SHARE)))) if chosen else set()
    requests = []
    for n, (raw, effect) in enumerate(chosen):
        if n in flips:
            effect = "Deny" if effect == "Allow" else "Allow"
        condition = {"StringEquals": dict(raw["context"])} if raw["context"] else {}
        requests.append(
            {
                "id": f"r{n + 1}",
                "Effect": effect,
                "Action": raw["action"],
                "Resource": raw["resource"],
                "Condition": condition,
            }
        )
    return {"Requests": requests}


def contradictions(spec_doc: Any) -> list[str]:
    """Ids of CloudFix-format requests that repeat an earlier request (action, resource, principal,
    conditions) with the opposite expected effect: no policy can satisfy such a suite."""
    seen: dict[str, tuple[str, str]] = {}
    out = []
    requests = spec_doc.get("Requests", []) if isinstance(spec_doc, dict) else []
    for n, raw in enumerate(requests):
        key = json.dumps(
            [
                str(raw.get("Action", "")).lower(),
                raw.get("Resource"),
                raw.get("Principal"),
                raw.get("Condition") or {},
            ],
            sort_keys=True,
        )
        label = str(raw.get("id", n))
        first = seen.setdefault(key, (label, str(raw.get("Effect"))))
        if first[1] != str(raw.get("Effect")):
            out.append(f"{first[0]} / {label}")
    return out


class IamRepairSuite(Suite):
    name = "iam-repair"
    description = (
        "Symbolic repair of the quacky-repair tasks and of generated CloudFix-style request suites: repair "
        "rate, time, and permissiveness change, each result checked by the concrete evaluator."
    )
    datasets = ("quacky-repair", "synthesis")

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return missing_modules("policies", "verifiers.iam.evaluate", *_REPAIR_MODULES)

    def cases(self, options: RunOptions) -> list[Case]:
        # --dataset: a task set (`quacky`, `cloudfix10`, `cloudfix50`) or a case-id prefix within one.
        prefix = options.dataset or ""
        groups = [prefix.split("/")[0]] if prefix.split("/")[0] in _GROUPS else list(_GROUPS)
        cases: list[Case] = []
        if "quacky" in groups:
            for task in load_repair_tasks():
                for name, doc in task.policies.items():
                    spec = {"must_allow": task.must_allow, "properties": ["least_privilege"]}
                    cases.append(
                        Case(
                            id=f"quacky/{task.id}/{name}",
                            data={"policy": doc, "spec": spec, "group": "quacky"},
                        )
                    )
        originals = load_synthesis_originals()
        for size in (10, 50):
            group = f"cloudfix{size}"
            if group in groups:
                for n in sorted(originals, key=int):
                    spec = cloudfix_suite(originals[n], size, options.seed + int(n))
                    cases.append(
                        Case(id=f"{group}/{n}", data={"policy": originals[n], "spec": spec, "group": group})
                    )
        return [c for c in cases if c.id.startswith(prefix)]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from verifiers.iam.repair.measure import allowed_actions
        from verifiers.iam.repair.repair import RepairOptions, repair
        from verifiers.iam.repair.spec import parse_spec

        evaluate = engine_function("evaluate")
        policy = parse(case.data["policy"])
        spec = parse_spec(case.data["spec"])
        result = repair(policy, spec, RepairOptions(time_budget_s=60.0))
        repaired = result.policy or policy
        wrong = [
            sr.label
            for sr in spec.requests
            if (evaluate(repaired, sr.request).decision == "Allowed") != (sr.expect == "Allow")
        ]
        fixed = result.status in ("repaired", "already_satisfied")
        clashes = contradictions(case.data["spec"])
        # a proven `unsatisfiable` is the right verdict for a suite that contradicts itself, and only there
        correct = (result.status == "unsatisfiable") if clashes else (fixed and not wrong)
        relation = result.comparison.relation if result.comparison is not None else None
        return CaseOutcome(
            passed=correct,
            score=1.0 if correct else 0.0,
            metrics={
                "group": case.data["group"],
                "repair_status": result.status,
                "repair_s": round(result.seconds, 4),
                "edits": len(result.edits),
                "requests": len(spec.requests),
                "wrong_after": len(wrong),
                "contradictions": len(clashes),
                "within_bound": result.within_bound if fixed else None,
                "actions_before": len(allowed_actions(policy)),
                "actions_after": len(allowed_actions(repaired)) if fixed else None,
                "relation": relation,
            },
            detail={
                "summary": f"{result.status}, {len(result.edits)} edits"
                + (f"; still wrong: {wrong[:5]}" if wrong and not clashes else "")
                + (f"; contradictory requests: {clashes[:5]}" if clashes else ""),
                "explanation": result.explanation,
                "edits": [e.to_json() for e in result.edits][:20],
            },
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        groups: dict[str, list[CaseResult]] = defaultdict(list)
        for r in results:
            groups[r.id.split("/")[0]].append(r)
        rows, metrics, before, after = [], {}, [], []
        for name in [g for g in _GROUPS if g in groups]:
            group = groups[name]
            ran = [r for r in group if "repair_status" in r.metrics]
            statuses = Counter(r.metrics["repair_status"] for r in ran)
            times = sorted(r.metrics["repair_s"] for r in ran)
            fixed = [r for r in ran if r.metrics["actions_after"] is not None]
            b = sum(r.metrics["actions_before"] for r in fixed)
            a = sum(r.metrics["actions_after"] for r in fixed)
            rate = round(sum(r.status == "pass" for r in group) / len(group), 4)
            bounded = sum(bool(r.metrics.get("within_bound")) for r in fixed)
            metrics[name] = {
                "cases": len(group),
                "statuses": dict(statuses),
                "verified_fixed_rate": rate,
                "median_s": round(statistics.median(times), 4) if times else None,
                "worst_s": times[-1] if times else None,
                "actions_before": b,
                "actions_after": a,
                "within_bound": bounded,
                # compare(original, repaired): "more_permissive" means the repair narrowed the policy.
                "original_vs_repaired": dict(Counter(str(r.metrics["relation"]) for r in fixed)),
            }
            rows.append(
                [
                    name,
                    len(group),
                    statuses.get("repaired", 0),
                    statuses.get("already_satisfied", 0),
                    statuses.get("unsatisfiable", 0),
                    statuses.get("failed", 0),
                    len(group) - len(ran),
                    rate,
                    f"{bounded}/{len(fixed)}",
                    metrics[name]["median_s"],
                    metrics[name]["worst_s"],
                    f"{b} → {a}",
                ]
            )
            before.append(float(b))
            after.append(float(a))
        return SuiteSummary(
            metrics=metrics,
            tables=[
                Table(
                    title="Repair by task set",
                    headers=[
                        "set",
                        "cases",
                        "repaired",
                        "already satisfied",
                        "unsatisfiable",
                        "failed",
                        "errors/timeouts",
                        "correct",
                        "within bound",
                        "median s",
                        "worst s",
                        "actions allowed before → after",
                    ],
                    rows=rows,
                    note="'correct': repaired or already satisfied with every spec request decided as expected by the "
                    "concrete evaluator, or `unsatisfiable` for a suite that repeats a request with the opposite "
                    "effect. 'within bound': of the fixed cases, those proven (Z3) to allow nothing beyond the "
                    "original and the must-allow requests. Actions are counted over the catalog for fixed cases only.",
                )
            ],
            charts=[
                Chart(
                    title="Actions allowed before and after repair",
                    labels=[g for g in _GROUPS if g in groups],
                    series={"before": before, "after": after},
                    ylabel="catalog actions allowed (sum)",
                )
            ],
        )
