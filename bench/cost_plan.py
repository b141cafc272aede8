"""Node-plan benchmark: cost, gap to the proven lower bound, and solve time versus problem size.

1. SpotKube's own model (its 4 spot types and prices, uniform 0.4 vCPU / 0.6 GiB pods; 3, 30, 100 pods),
   solved exactly, beside a SpotKube-style NSGA-II (pymoo, node counts per type, objectives cost and
   node count, the middle of the Pareto front, as SpotKube picks it). Needs `pip install pymoo` for NSGA-II.
2. Synthetic heterogeneous clusters on us-east-1 (84 current-generation types, on-demand + spot): 100, 1,000
   and 10,000 pods, five seeds each, beside a Karpenter-style first-fit-decreasing baseline. Pod sizes follow
   the Azure Public Dataset V1 VM-size mix (CC-BY-4.0; Cortez et al., SOSP'17), halved.

Run: `.venv/bin/python bench/cost_plan.py [--sizes 100,1000,10000] [--seeds 5] [--time-limit 25]`.
"""

from __future__ import annotations

import argparse
import statistics
import time

from eval.suites.cost import build_problem, synthetic_workloads
from tools.cost.catalog import PriceCatalog
from tools.cost.engine import default_offerings
from tools.cost.plan import karpenter_style_plan, plan_nodes
from verifiers.cost import Offering, PlanProblem, validate_plan


def nsga2_spotkube(problem: PlanProblem, seed: int) -> tuple[float, float] | None:
    """SpotKube-style NSGA-II over node counts: (cheapest, middle) of the final Pareto front, SpotKube
    picking the middle. None if pymoo is missing."""
    try:
        import numpy as np
        from pymoo.algorithms.moo.nsga2 import NSGA2  # type: ignore[import-untyped]
        from pymoo.core.problem import Problem  # type: ignore[import-untyped]
        from pymoo.optimize import minimize  # type: ignore[import-untyped]
    except ImportError:
        return None
    w = problem.workloads[0]
    offs = problem.offerings
    per_node = np.array([min(o.cpu_m // w.cpu_m, int(o.memory_mib // w.memory_mib)) for o in offs])
    price = np.array([o.usd_per_hour for o in offs])

    class Counts(Problem):  # type: ignore[misc]
        def __init__(self) -> None:
            # a type's count ranges up to what would host every pod on that type alone
            upper = np.ceil(w.replicas / np.maximum(per_node, 1))
            super().__init__(n_var=len(offs), n_obj=2, n_ieq_constr=1, xl=0, xu=upper, vtype=int)

        def _evaluate(
            self, x: np.ndarray, out: dict[str, np.ndarray], *args: object, **kwargs: object
        ) -> None:
            n = np.round(x)
            out["F"] = np.column_stack([n @ price, -n.sum(axis=1)])
            out["G"] = (w.replicas - n @ per_node)[:, None]

    res = minimize(Counts(), NSGA2(pop_size=50), ("n_gen", 50), seed=seed, verbose=False)
    if res.X is None:
        return None
    front = sorted(float(np.round(x) @ price) for x in np.atleast_2d(res.X))
    return front[0], front[len(front) // 2]


def synthetic_problem(pods: int, seed: int, offerings: list[Offering]) -> PlanProblem:
    return PlanProblem(workloads=synthetic_workloads(pods, seed), offerings=offerings)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--time-limit", type=float, default=25.0)
    ap.add_argument("--skip-spotkube", action="store_true")
    args = ap.parse_args()

    if not args.skip_spotkube:
        print("SpotKube model (4 spot types, 0.4 vCPU / 0.6 GiB pods)")
        print(f"{'pods':>6} {'optimum $/h':>12} {'status':>8} {'time s':>7} {'GA best $/h':>12} {'over':>7} "
              f"{'GA middle $/h':>14} {'over':>7}")  # fmt: skip
        for pods in (3, 30, 100):
            problem = build_problem("spotkube", pods, seed=0)  # SpotKube's 4 spot types and pod size
            plan = plan_nodes(problem, time_limit_s=args.time_limit)
            assert validate_plan(problem, plan).ok
            ga = [c for c in (nsga2_spotkube(problem, s) for s in range(args.seeds)) if c is not None]
            if ga:
                best = statistics.mean(g[0] for g in ga)
                mid = statistics.mean(g[1] for g in ga)
                ga_txt = (f"{best:12.4f} {best / plan.hourly_cost - 1:7.1%} {mid:14.4f} "
                          f"{mid / plan.hourly_cost - 1:7.1%}")  # fmt: skip
            else:
                ga_txt = "  (pymoo not installed)"
            print(f"{pods:>6} {plan.hourly_cost:12.4f} {plan.status:>8} {plan.solve_seconds:7.2f} {ga_txt}")

    offerings = default_offerings(PriceCatalog("aws", "us-east-1"))
    print(f"\nSynthetic heterogeneous clusters, us-east-1, {len(offerings) // 2} types x (on-demand, spot)")
    print(f"{'pods':>6} {'seed':>4} {'plan $/h':>9} {'bound $/h':>9} {'gap':>6} {'status':>8} {'time s':>7} "
          f"{'FFD $/h':>9} {'FFD gap':>8} {'FFD s':>6} {'bound from':>16}")  # fmt: skip
    for pods in (int(s) for s in args.sizes.split(",")):
        gaps, ffd_gaps, times, proven = [], [], [], 0
        for seed in range(args.seeds):
            problem = synthetic_problem(pods, seed, offerings)
            t = time.perf_counter()
            plan = plan_nodes(problem, time_limit_s=args.time_limit)
            wall = time.perf_counter() - t
            assert validate_plan(problem, plan).ok
            base = karpenter_style_plan(problem)
            assert validate_plan(problem, base).ok
            ffd_gap = 1 - plan.lower_bound / base.hourly_cost
            gaps.append(plan.gap)
            ffd_gaps.append(ffd_gap)
            times.append(wall)
            proven += plan.status == "optimal"
            print(f"{pods:>6} {seed:>4} {plan.hourly_cost:9.3f} {plan.lower_bound:9.3f} {plan.gap:6.2%} "
                  f"{plan.status:>8} {wall:7.2f} {base.hourly_cost:9.3f} {ffd_gap:8.2%} {base.solve_seconds:6.2f} {plan.bound_source:>16}")  # fmt: skip
        print(f"{pods:>6} mean gap {statistics.mean(gaps):.2%} (max {max(gaps):.2%}), {proven} proven optimal, FFD gap "
              f"{statistics.mean(ffd_gaps):.2%}, time mean {statistics.mean(times):.1f}s max {max(times):.1f}s")  # fmt: skip


if __name__ == "__main__":
    main()
