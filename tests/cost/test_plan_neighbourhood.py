"""The large-neighbourhood search and the reduced costs that rank its nodes: a plan costs the bound plus its
nodes' reduced costs plus what its rows leave slack, and the search re-packs the nodes it is pointed at."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from tools.cost.plan import plan_nodes
from tools.cost.plan.configuration import dual_objective, reduced_cost, solve_configuration
from tools.cost.plan.neighbourhood import improve_on_demand
from tools.cost.plan.packing import OpenNode, open_nodes
from verifiers.cost import Offering, PlanProblem, Workload


def test_plan_cost_is_bound_plus_reduced_costs_plus_row_slack(
    make_problem: Callable[..., PlanProblem],
) -> None:
    priced_rows = 0
    for seed in range(500, 512):
        problem = make_problem(seed, pods=8, rules=True)
        cfg = solve_configuration(problem, set(), [])
        nodes = open_nodes(problem, plan_nodes(problem, effort=0.25))
        d, classes = cfg.duals, cfg.classes
        # what the plan leaves slack in each row, at the row's price (placed pods: exactly the demand)
        spot: Counter[int] = Counter()
        pool: Counter[tuple[int, str]] = Counter()
        spread: Counter[tuple[int, int]] = Counter()
        for node in nodes:
            for k, c in enumerate(classes):
                here = sum(node.counts.get(w.name, 0) for w in c.workloads)
                if here and node.offering.capacity_type == "spot":
                    spot[k] += here
                    pool[(k, node.offering.name)] += here
                for m, row in enumerate(c.spread):
                    spread[(k, m)] += min(
                        row.cap, sum(node.counts.get(c.workloads[i].name, 0) for i in row.members)
                    )
        slack = sum(d.sigma[k] * (c.spot_cap - spot[k]) for k, c in enumerate(classes))
        slack += sum(r * (classes[k].pool_cap - pool[(k, o)]) for (k, o), r in d.rho.items())
        slack += sum(v * (spread[(k, m)] - classes[k].spread[m].need) for (k, m), v in d.nu.items())
        priced_rows += sum(1 for v in d.nu.values() if v > 1e-9)
        rcs = [reduced_cost(cfg, n) for n in nodes]
        cost = sum(n.offering.usd_per_hour for n in nodes)
        assert cost - dual_objective(classes, d) == pytest.approx(sum(rcs) + slack, abs=1e-9)
        # the duals are scaled so that no node is worth more than its price (knapsack tolerance 1e-4)
        assert min(rcs) >= -1e-4 * max(n.offering.usd_per_hour for n in nodes)
    assert priced_rows  # node-count rows were priced in some of these problems, so their term was tested


def _oversized_nodes() -> tuple[PlanProblem, list[OpenNode], list[OpenNode]]:
    medium = Offering(instance_type="m", cpu_m=4000, memory_mib=16384, usd_per_hour=0.2)
    large = Offering(instance_type="xl", cpu_m=16000, memory_mib=65536, usd_per_hour=1.2)
    big = Workload(name="ns/Deployment/big", namespace="ns", replicas=18, cpu_m=3000, memory_mib=4096)
    small = Workload(name="ns/Deployment/small", namespace="ns", replicas=2, cpu_m=500, memory_mib=512)
    problem = PlanProblem(workloads=[big, small], offerings=[medium, large])
    # 18 large nodes for one big pod each (a medium node holds one, and costs less per big pod than a large
    # node holding five): always at least 18 such nodes, more
    # than a round's pool, so a ranking that puts them first never reaches the others
    ranked_high = []
    for _ in range(18):
        node = OpenNode(large)
        node.add(big, 1)
        ranked_high.append(node)
    ranked_low = []
    for _ in range(2):  # the emptiest nodes: a large node for one small pod
        node = OpenNode(large)
        node.add(small, 1)
        ranked_low.append(node)
    return problem, ranked_high, ranked_low


def _pods(nodes: list[OpenNode]) -> Counter[str]:
    out: Counter[str] = Counter()
    for n in nodes:
        out.update(n.counts)
        assert n.cpu_m <= n.offering.cpu_m and n.memory_mib <= n.offering.memory_mib
    return out


def test_the_search_re_packs_the_nodes_its_ranking_points_at() -> None:
    problem, high, low = _oversized_nodes()
    before = high + low
    # ranked by the caller: the big pods' nodes first; they move to medium nodes, the small pods stay put
    ranked = improve_on_demand(
        problem, list(before), 4.0, waste=lambda n: float(n.counts["ns/Deployment/big"])
    )
    assert _pods(ranked) == _pods(before)
    assert all(any(n is node for n in ranked) for node in low)
    assert sorted(n.offering.instance_type for n in ranked) == ["m"] * 18 + ["xl"] * 2
    # by default (idle capacity, priced) the small pods' nodes come first and are re-packed too
    idle = improve_on_demand(problem, list(before), 4.0)
    assert _pods(idle) == _pods(before)
    assert not any(n is node for n in idle for node in low)
    assert sum(n.offering.usd_per_hour for n in idle) < sum(n.offering.usd_per_hour for n in ranked) - 1.0
