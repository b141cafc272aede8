"""`cost`: the node planner on the cost benchmark instances, scored by cost, gap and violations.

Instances (as the cost issue describes them): SpotKube's own model (its 4 spot types at their 2023-06-15
prices, uniform 0.4 vCPU / 0.6 GiB pods; 3, 30 and 100 pods) and synthetic heterogeneous clusters on the
us-east-1 offerings (on-demand + spot; pod sizes from the Azure Public Dataset V1 VM-size mix, halved;
100 and 1,000 pods by default, 10,000 with `--dataset synthetic-10000`), five seeds each. Each plan is
repacked by the validator (violations), priced, and set against its proven lower bound (gap) and a
Karpenter-style first-fit-decreasing baseline. A case passes with no violation and a gap of at most 3%.
"""

from __future__ import annotations

import random
import statistics
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table, missing_modules

__all__ = ["GAP_TARGET", "CostSuite", "build_problem", "ha_workloads", "synthetic_workloads"]

GAP_TARGET = 0.03
_SPOTKUBE = {
    "t3.medium": (2, 4, 0.0299),
    "c6a.large": (2, 4, 0.0765),
    "t4g.large": (2, 8, 0.0672),
    "c6g.xlarge": (4, 8, 0.136),
}
# Azure V1 VM flavors (vCPU, GB) with their share of 1.87 M arrivals (flavors under 0.1 % folded away).
_AZURE_FLAVORS = [
    ((1, 1.75), 892),
    ((2, 3.5), 465),
    ((4, 7.0), 203),
    ((8, 14.0), 198),
    ((8, 56.0), 72),
    ((1, 0.75), 39),
]
_SEEDS = 5


def build_problem(kind: str, pods: int, seed: int) -> Any:
    """The PlanProblem of one benchmark instance."""
    from verifiers.cost import Offering, PlanProblem, Workload

    if kind == "spotkube":
        offerings = [
            Offering(
                instance_type=t,
                capacity_type="spot",
                cpu_m=c * 1000,
                memory_mib=m * 1024,
                usd_per_hour=p,
                max_pods=1000,
            )
            for t, (c, m, p) in _SPOTKUBE.items()
        ]
        work = Workload(
            name="spotkube/Deployment/svc", replicas=pods, cpu_m=400, memory_mib=0.6 * 1024, spot_allowed=True
        )
        return PlanProblem(workloads=[work], offerings=offerings)
    from tools.cost.catalog import PriceCatalog
    from tools.cost.engine import default_offerings

    offerings = default_offerings(PriceCatalog("aws", "us-east-1"))
    return PlanProblem(workloads=synthetic_workloads(pods, seed), offerings=offerings)


def synthetic_workloads(pods: int, seed: int) -> list[Any]:
    """The Workloads of a synthetic heterogeneous cluster: Azure V1 VM-size mix, halved, 60% spot-tolerant."""
    from verifiers.cost import Workload

    rng = random.Random(seed)
    sizes, weights = zip(*_AZURE_FLAVORS, strict=True)
    works: list[Any] = []
    left = pods
    while left > 0:
        n = min(left, rng.choice([1, 2, 3, 4, 6, 10, 20, 40]))
        vcpu, gb = rng.choices(sizes, weights)[0]
        spot = rng.random() < 0.6
        works.append(
            Workload(
                name=f"ns{len(works) % 7}/Deployment/w{len(works)}",
                namespace=f"ns{len(works) % 7}",
                replicas=n,
                cpu_m=int(vcpu * 500),
                memory_mib=round(gb * 512, 1),
                spot_allowed=spot,
                max_spot_share=0.5 if spot else 1.0,
                min_spot_pools=2 if spot else 1,
                node_selector={"kubernetes.io/arch": "amd64"} if rng.random() < 0.2 else {},
            )
        )
        left -= n
    return works


def ha_workloads(pods: int, seed: int) -> list[Any]:
    """The same cluster with availability rules: 2+ replicas never share a node, and two in five workloads
    with 2+ replicas spread over the zones (max skew 1)."""
    rng = random.Random(seed * 7919)
    out = []
    for w in synthetic_workloads(pods, seed):
        rules: dict[str, Any] = {}
        if w.replicas >= 2:
            rules["max_per_node"] = 1
            if rng.random() < 0.4:
                rules["zone_max_skew"] = 1
        out.append(w.model_copy(update=rules))
    return out


class CostSuite(Suite):
    name = "cost"
    description = (
        "Node plans on the cost benchmark instances: cost, gap to the proven bound, violations, FFD baseline."
    )
    datasets = ("aws-ec2-catalog (shipped by tools/cost)",)

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return missing_modules("verifiers.cost", "tools.cost.plan", "tools.cost.catalog", "tools.cost.engine")

    def cases(self, options: RunOptions) -> list[Case]:
        cases = [
            Case(id=f"spotkube/{n}", data={"kind": "spotkube", "pods": n, "seed": 0}) for n in (3, 30, 100)
        ]
        sizes = [10_000] if options.dataset == "synthetic-10000" else [100, 1000]
        for pods in sizes:
            for seed in range(options.seed, options.seed + _SEEDS):
                cases.append(
                    Case(
                        id=f"synthetic/{pods}/seed{seed}",
                        data={"kind": "synthetic", "pods": pods, "seed": seed},
                    )
                )
        if options.dataset:
            cases = [
                c for c in cases if c.id.startswith(options.dataset) or options.dataset == "synthetic-10000"
            ]
        return cases

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from tools.cost.plan import karpenter_style_plan, plan_nodes
        from verifiers.cost import validate_plan

        problem = build_problem(case.data["kind"], case.data["pods"], case.data["seed"])
        plan = plan_nodes(problem)
        violations = validate_plan(problem, plan).errors
        base = karpenter_style_plan(problem)
        base_violations = validate_plan(problem, base).errors
        gap = (plan.hourly_cost - plan.lower_bound) / plan.hourly_cost if plan.hourly_cost else 0.0
        ok = not violations and gap <= GAP_TARGET + 1e-9
        return CaseOutcome(
            passed=ok,
            score=round(1 - gap, 6),
            metrics={
                "kind": case.data["kind"],
                "pods": case.data["pods"],
                "hourly_cost": round(plan.hourly_cost, 6),
                "lower_bound": round(plan.lower_bound, 6),
                "gap": round(gap, 6),
                "status": plan.status,
                "solver": plan.solver,
                "violations": len(violations),
                "unplaceable": sum(plan.unplaceable.values()),
                "nodes": len(plan.nodes),
                "baseline_cost": round(base.hourly_cost, 6),
                "baseline_violations": len(base_violations),
                "baseline_over_bound": round(1 - plan.lower_bound / base.hourly_cost, 6)
                if base.hourly_cost
                else None,
                "solve_s": round(plan.solve_seconds, 4),
            },
            detail={
                "summary": f"${plan.hourly_cost:.4f}/h, gap {gap:.2%}, {plan.status}, FFD ${base.hourly_cost:.4f}/h",
                "violations": violations[:10],
            },
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        ran = [r for r in results if "gap" in r.metrics]
        groups: dict[str, list[CaseResult]] = {}
        for r in ran:
            groups.setdefault(f"{r.metrics['kind']}/{r.metrics['pods']}", []).append(r)
        rows = []
        for name, group in groups.items():
            rows.append(
                [
                    name,
                    len(group),
                    round(statistics.fmean(r.metrics["hourly_cost"] for r in group), 4),
                    round(statistics.fmean(r.metrics["gap"] for r in group), 4),
                    max(r.metrics["gap"] for r in group),
                    sum(r.metrics["violations"] for r in group),
                    round(statistics.fmean(r.metrics["baseline_cost"] for r in group), 4),
                    round(statistics.fmean(r.metrics["baseline_over_bound"] or 0 for r in group), 4),
                    max(r.metrics["solve_s"] for r in group),
                ]
            )
        metrics = {
            "instances": len(ran),
            "violations": sum(r.metrics["violations"] for r in ran),
            "max_gap": max((r.metrics["gap"] for r in ran), default=None),
            "within_gap_target": sum(r.metrics["gap"] <= GAP_TARGET + 1e-9 for r in ran),
            "saving_vs_ffd": round(
                1 - sum(r.metrics["hourly_cost"] for r in ran) / sum(r.metrics["baseline_cost"] for r in ran),
                4,
            )
            if ran
            else None,
        }
        return SuiteSummary(
            metrics=metrics,
            tables=[
                Table(
                    title="Plans by instance size",
                    headers=[
                        "instances",
                        "n",
                        "mean $/h",
                        "mean gap",
                        "max gap",
                        "violations",
                        "FFD mean $/h",
                        "FFD over bound",
                        "max solve s",
                    ],
                    rows=rows,
                    note="gap = (plan cost - proven lower bound) / plan cost; FFD = Karpenter-style first-fit-decreasing.",
                )
            ],
            charts=[
                Chart(
                    title="Hourly cost: FFD baseline (before) vs our plan (after)",
                    labels=list(groups),
                    series={
                        "FFD baseline": [
                            statistics.fmean(r.metrics["baseline_cost"] for r in g) for g in groups.values()
                        ],
                        "plan": [
                            statistics.fmean(r.metrics["hourly_cost"] for r in g) for g in groups.values()
                        ],
                    },
                    ylabel="USD per hour",
                )
            ],
        )
