"""Node-plan benchmark: cost, gap to the proven lower bound, solve time, and honest baselines.

1. SpotKube's own model (its 4 spot types and prices, uniform 0.4 vCPU / 0.6 GiB pods; 3, 30, 100 pods),
   solved exactly, beside a SpotKube-style NSGA-II (pymoo, node counts per type, objectives cost and
   node count, the middle of the Pareto front, as SpotKube picks it). Needs `pip install pymoo` for NSGA-II.
2. Synthetic heterogeneous clusters on us-east-1 (84 current-generation types, on-demand + spot): 100, 1,000
   and 10,000 pods, seeds 1-5. Pod sizes follow the Azure Public Dataset V1 VM-size mix (CC-BY-4.0; Cortez
   et al., SOSP'17), halved. `--ha` adds availability rules: 2+ replicas never share a node, and two in five
   workloads spread over three zones (max skew 1).
   Baselines, each a valid plan under the same rules: Karpenter-like provisioning (first-fit-decreasing,
   nodes being formed stay open, each launches as the cheapest type that holds its pods) and the best
   single-type first-fit-decreasing. Every ratio is cost / proven lower bound.

Plans are limited by work, not time: a second run (even on a busy machine) must print the same plans,
bounds, gaps and statuses. `--out FILE` writes them as JSON; `--compare A B` checks two such files.

Run: `.venv/bin/python bench/cost_plan.py [--sizes 100,1000,10000] [--seeds 1-5] [--effort 1] [--ha]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from eval.suites.cost import build_problem, ha_workloads, synthetic_workloads
from tools.cost.catalog import PriceCatalog
from tools.cost.engine import default_offerings
from tools.cost.plan import karpenter_style_plan, plan_nodes, single_type_plan
from verifiers.cost import Offering, Plan, PlanProblem, validate_plan

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


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


def synthetic_problem(pods: int, seed: int, offerings: list[Offering], ha: bool = False) -> PlanProblem:
    if ha:
        return PlanProblem(workloads=ha_workloads(pods, seed), offerings=offerings, zones=ZONES)
    return PlanProblem(workloads=synthetic_workloads(pods, seed), offerings=offerings)


def digest(plan: Plan) -> str:
    """A fingerprint of the plan's nodes (offering, zone, pods): equal digests, equal plans."""
    nodes = sorted(json.dumps([n.offering, n.zone, sorted(n.pods.items())]) for n in plan.nodes)
    return hashlib.sha256("\n".join(nodes).encode()).hexdigest()[:16]


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def _spotkube(effort: float, seeds: list[int]) -> None:
    print("SpotKube model (4 spot types, 0.4 vCPU / 0.6 GiB pods)")
    print(f"{'pods':>6} {'optimum $/h':>12} {'status':>8} {'time s':>7} {'GA best $/h':>12} {'ratio':>6} "
          f"{'GA middle $/h':>14} {'ratio':>6}")  # fmt: skip
    for pods in (3, 30, 100):
        problem = build_problem("spotkube", pods, seed=0)  # SpotKube's 4 spot types and pod size
        plan = plan_nodes(problem, effort=effort)
        assert validate_plan(problem, plan).ok
        ga = [c for c in (nsga2_spotkube(problem, s) for s in seeds) if c is not None]
        if ga:
            best = statistics.mean(g[0] for g in ga)
            mid = statistics.mean(g[1] for g in ga)
            ga_txt = f"{best:12.4f} {best / plan.lower_bound:6.3f} {mid:14.4f} {mid / plan.lower_bound:6.3f}"
        else:
            ga_txt = "  (pymoo not installed)"
        print(f"{pods:>6} {plan.hourly_cost:12.4f} {plan.status:>8} {plan.solve_seconds:7.2f} {ga_txt}")


def _synthetic(sizes: list[int], seeds: list[int], effort: float, ha: bool) -> list[dict[str, Any]]:
    offerings = default_offerings(PriceCatalog("aws", "us-east-1"))
    rows: list[dict[str, Any]] = []
    print(f"\nSynthetic clusters{' with availability rules' if ha else ''}, us-east-1, "
          f"{len(offerings) // 2} types x (on-demand, spot); ratios are cost / proven bound")  # fmt: skip
    print(f"{'pods':>6} {'seed':>4} {'plan $/h':>9} {'bound $/h':>9} {'gap':>6} {'status':>8} {'time s':>7} "
          f"{'cpu s':>6} {'bound from':>16} {'Karp. $/h':>9} {'ratio':>6} {'1-type $/h':>10} {'ratio':>6} {'digest':>16}")  # fmt: skip
    for pods in sizes:
        group = []
        for seed in seeds:
            problem = synthetic_problem(pods, seed, offerings, ha)
            t, cpu = time.perf_counter(), time.process_time()
            plan = plan_nodes(problem, effort=effort)
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            assert validate_plan(problem, plan).ok
            karp, single = karpenter_style_plan(problem), single_type_plan(problem)
            for base in (karp, single):
                assert validate_plan(problem, base).ok, validate_plan(problem, base).errors[:3]
            row: dict[str, Any] = {"pods": pods, "seed": seed, "ha": ha, "cost": plan.hourly_cost, "bound": plan.lower_bound,
                   "gap": plan.gap, "status": plan.status, "bound_source": plan.bound_source,
                   "solver": plan.solver, "digest": digest(plan), "seconds": wall, "cpu_seconds": cpu,
                   "karpenter": karp.hourly_cost, "single_type": single.hourly_cost}  # fmt: skip
            group.append(row)
            lb = plan.lower_bound
            print(f"{pods:>6} {seed:>4} {plan.hourly_cost:9.3f} {lb:9.3f} {plan.gap:6.2%} {plan.status:>8} "
                  f"{wall:7.2f} {cpu:6.1f} {plan.bound_source:>16} {karp.hourly_cost:9.3f} {karp.hourly_cost / lb:6.3f} "
                  f"{single.hourly_cost:10.3f} {single.hourly_cost / lb:6.3f} {row['digest']:>16}", flush=True)  # fmt: skip
        gaps = [r["gap"] for r in group]
        print(f"{pods:>6} gap mean {statistics.mean(gaps):.2%} max {max(gaps):.2%}, "
              f"{sum(r['status'] == 'optimal' for r in group)} proven optimal; Karpenter-like / bound mean "
              f"{statistics.mean(r['karpenter'] / r['bound'] for r in group):.3f}, single type / bound mean "
              f"{statistics.mean(r['single_type'] / r['bound'] for r in group):.3f}; time mean "
              f"{statistics.mean(r['seconds'] for r in group):.1f} s, max {max(r['seconds'] for r in group):.1f} s "
              f"(CPU mean {statistics.mean(r['cpu_seconds'] for r in group):.1f} s, "
              f"max {max(r['cpu_seconds'] for r in group):.1f} s)")  # fmt: skip
        rows += group
    return rows


def compare(a: Path, b: Path) -> int:
    """Exit status 0 when both runs hold the same plans, bounds, gaps and statuses."""
    left = {(r["pods"], r["seed"], r["ha"]): r for r in json.loads(a.read_text())}
    right = {(r["pods"], r["seed"], r["ha"]): r for r in json.loads(b.read_text())}
    keys = ("digest", "cost", "bound", "gap", "status", "bound_source")
    differ = [k for k in sorted(left.keys() & right.keys()) if any(left[k][f] != right[k][f] for f in keys)]
    for k in differ:
        print(
            f"differ {k}: "
            + ", ".join(f"{f} {left[k][f]} / {right[k][f]}" for f in keys if left[k][f] != right[k][f])
        )
    same = len(left.keys() & right.keys()) - len(differ)
    print(
        f"{same} of {len(left.keys() & right.keys())} instances identical (plan digest, cost, bound, gap, status)"
    )
    return 1 if differ else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--seeds", default="1-5", help="e.g. 1-5 or 1,3")
    ap.add_argument("--effort", type=float, default=1.0)
    ap.add_argument("--ha", action="store_true", help="availability rules (anti-affinity, zone spread)")
    ap.add_argument("--skip-spotkube", action="store_true")
    ap.add_argument("--out", type=Path, help="write the synthetic results as JSON")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    args = ap.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    seeds = _seeds(args.seeds)
    if not args.skip_spotkube:
        _spotkube(args.effort, seeds)
    rows = _synthetic([int(s) for s in args.sizes.split(",")], seeds, args.effort, args.ha)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
