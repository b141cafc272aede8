"""`iam-explain`: are our policy summaries true? Checked against the concrete evaluator by sampling.

For each policy, `explain()` states allow and deny regions (actions x resources under conditions), which
regions some request reaches, an example request for each, and action counts from the catalog. Checks:

- every reachable region's example request is allowed by the evaluator and lies in its region;
- every region's action count equals the catalog actions its stated patterns cover (counted here);
- completeness: every sampled request the evaluator allows lies in a stated, reachable allow region;
- soundness: a sampled request inside an unconditional allow region of a policy without Deny statements
  is allowed; a policy stated to allow nothing allows no sampled request.

Region membership is computed here from the stated patterns, not by the engine, so a summary that
misstates a region is caught. A case passes when every check holds.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_policies, load_synthesis_originals
from eval.iam_engine import engine_function, engine_unavailable, parse
from eval.iam_sampling import sample_request_dicts
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table

__all__ = ["IamExplainSuite"]

_SAMPLES = 150
_CHECKS = ("example_allowed", "action_count", "complete", "sound")


@cache
def _regex(pattern: str, strict: bool, ignore_case: bool) -> re.Pattern[str]:
    # strict: `*` stays within an ARN segment unless it ends the pattern (AWS's reading); loose: spans all.
    parts = []
    for i, ch in enumerate(pattern):
        if ch == "*":
            parts.append(".*" if not strict or i == len(pattern) - 1 else "[^:]*")
        elif ch == "?":
            parts.append("." if not strict else "[^:]")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE if ignore_case else 0)


def _covers(stated: str, value: str, *, actions: bool, strict: bool) -> bool:
    if stated in ("any resource", "*"):
        return True
    negated = stated.startswith(("every action except ", "every resource except "))
    body = stated.split(" except ", 1)[1] if negated else stated
    hit = any(_regex(p.strip(), strict, actions).match(value) for p in body.split(", "))
    return hit != negated


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _substitute(stated: str, request: Any) -> str:
    """Policy variables take the request's value (AWS: only in Version 2012-10-17 documents)."""

    def value(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(",")
        if name.strip() in ("*", "?", "$"):
            return name.strip()
        found = request.context_value(name.strip())
        if isinstance(found, str):
            return found
        return default.strip().strip("'") if default else "\x00no-value\x00"

    return _VARIABLE.sub(value, stated)


def _in_region(region: Any, request: Any, strict: bool, variables: bool = False) -> bool:
    resources = _substitute(region.resources, request) if variables else region.resources
    return _covers(region.actions, request.action, actions=True, strict=strict) and _covers(
        resources, request.resource, actions=False, strict=strict
    )


def _counted_actions(region: Any, catalog: Any) -> int:
    return sum(_covers(region.actions, a, actions=True, strict=False) for a in catalog.all_actions)


class IamExplainSuite(Suite):
    name = "iam-explain"
    description = "Our policy summaries (regions, reachability, examples, counts) checked by sampling."
    datasets = ("synthesis", "quacky-pairs")

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return engine_unavailable("parse_policy", "parse_request", "evaluate", "explain")

    def cases(self, options: RunOptions) -> list[Case]:
        if options.dataset == "quacky":
            docs = {k: v for k, v in load_policies().items()}
        else:
            docs = {
                f"forum/{k}": v
                for k, v in sorted(load_synthesis_originals().items(), key=lambda kv: int(kv[0]))
            }
        return [Case(id=k, data={"policy": v, "seed": options.seed}) for k, v in docs.items()]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from policies import load_catalog

        evaluate, parse_request = engine_function("evaluate"), engine_function("parse_request")
        catalog = load_catalog()
        policy = parse(case.data["policy"])
        variables = case.data["policy"].get("Version") == "2012-10-17"
        explanation = engine_function("explain")(policy)
        problems: list[str] = []
        checked = dict.fromkeys(_CHECKS, 0)
        for region in explanation.allows:
            if region.reachable and region.example is not None:
                checked["example_allowed"] += 1
                if evaluate(policy, region.example).decision != "Allowed" or not _in_region(
                    region, region.example, strict=False, variables=variables
                ):
                    problems.append(
                        f"Statement[{region.statement}]: its example is not allowed in its region"
                    )
        for region in (*explanation.allows, *explanation.denies):
            if region.action_count is not None:
                checked["action_count"] += 1
                counted = _counted_actions(region, catalog)
                if counted != region.action_count:
                    problems.append(
                        f"Statement[{region.statement}]: states {region.action_count} actions, {counted} match"
                    )
        reachable = [r for r in explanation.allows if r.reachable is not False]
        plain = [r for r in explanation.allows if not r.conditions and not r.principals]
        allowed_count = 0
        for raw in sample_request_dicts(case.data["policy"], _SAMPLES, case.data["seed"], catalog):
            request = parse_request(raw)
            allowed = evaluate(policy, request).decision == "Allowed"
            allowed_count += allowed
            if allowed:
                checked["complete"] += 1
                if not any(_in_region(r, request, strict=False, variables=variables) for r in reachable):
                    problems.append(f"allowed but in no stated reachable region: {raw}")
            elif not explanation.denies and any(
                _in_region(r, request, strict=True, variables=variables) for r in plain
            ):
                checked["sound"] += 1
                problems.append(f"inside an unconditional allow region but denied: {raw}")
            elif not explanation.denies:
                checked["sound"] += 1
        if explanation.allows_anything is False and allowed_count:
            problems.append(f"stated to allow nothing, yet {allowed_count} sampled requests are allowed")
        return CaseOutcome(
            passed=not problems,
            score=1.0 if not problems else 0.0,
            metrics={
                "regions": len(explanation.allows) + len(explanation.denies),
                "sampled": _SAMPLES,
                "allowed_samples": allowed_count,
                "checks": checked,
                "problems": len(problems),
                "unreachable_regions": sum(r.reachable is False for r in explanation.allows),
                "undecided_regions": sum(r.reachable is None for r in explanation.allows),
            },
            detail={"summary": problems[0] if problems else "all checks hold", "problems": problems[:20]},
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        ran = [r for r in results if "checks" in r.metrics]
        totals = {c: sum(r.metrics["checks"][c] for r in ran) for c in _CHECKS}
        faithful = sum(r.status == "pass" for r in ran)
        metrics = {
            "policies": len(ran),
            "faithful": faithful,
            "faithful_rate": round(faithful / len(ran), 4) if ran else None,
            "checks": totals,
            "problems": sum(r.metrics["problems"] for r in ran),
            "undecided_regions": sum(r.metrics["undecided_regions"] for r in ran),
        }
        rows = [
            [
                r.id,
                r.metrics["regions"],
                r.metrics["allowed_samples"],
                r.metrics["problems"],
                r.detail["summary"],
            ]
            for r in ran
        ]
        return SuiteSummary(
            metrics=metrics,
            tables=[
                Table(
                    title="Checks made", headers=["check", "count"], rows=[[c, n] for c, n in totals.items()]
                ),
                Table(
                    title="Per policy",
                    headers=["policy", "regions", "allowed samples", "problems", "first problem"],
                    rows=rows,
                ),
            ],
            charts=[
                Chart(
                    title="Summaries with every check holding",
                    labels=["faithful", "with problems"],
                    series={"policies": [float(faithful), float(len(ran) - faithful)]},
                )
            ],
        )
