"""Zones for a plan's nodes: the input plan is never changed, and a greedy start keeps zone spreads where
CP-SAT, short of time, would break them (each broken spread costs new nodes in the repair)."""

from __future__ import annotations

import random

from tools.cost.plan.packing import OpenNode
from tools.cost.plan.zones import _breaks, _domains, _greedy, assign_zones
from verifiers.cost import Offering, PlannedNode, PlanProblem, Workload
from verifiers.cost.model import Plan
from verifiers.cost.validate import validate_plan

ZONES = ["z-a", "z-b", "z-c"]
BIG = Offering(instance_type="big", cpu_m=16000, memory_mib=65536, usd_per_hour=0.5)
SMALL = Offering(instance_type="small", cpu_m=2000, memory_mib=8192, usd_per_hour=0.1)


def _plan(problem: PlanProblem, nodes: list[OpenNode]) -> Plan:
    cost = sum(n.offering.usd_per_hour for n in nodes)
    planned = [PlannedNode(offering=n.offering.name, pods=dict(n.counts), zone=n.zone) for n in nodes]
    return Plan(nodes=planned, hourly_cost=cost, lower_bound=0.0, bound_source="milp-bound", status="feasible",
                solver="test")  # fmt: skip


def test_the_nodes_given_are_left_as_they_were() -> None:
    # 3 of web's 4 pods on one node: the spread (max skew 1 over 3 zones) needs two of them moved.
    web = Workload(name="ns/Deployment/web", replicas=4, cpu_m=1000, memory_mib=1024, zone_max_skew=1)
    problem = PlanProblem(workloads=[web], offerings=[BIG, SMALL], zones=ZONES)
    big, small = OpenNode(BIG), OpenNode(SMALL)
    big.add(web, 3)
    small.add(web, 1)
    placed = assign_zones(problem, [big, small], 1.0)
    assert validate_plan(problem, _plan(problem, placed)).ok
    assert len(placed) > 2  # pods moved to new nodes...
    assert (big.counts, big.zone, small.counts, small.zone) == (
        {web.name: 3},
        "",
        {web.name: 1},
        "",
    )  # ...not these


def test_a_greedy_start_breaks_few_spreads_and_cp_sat_finishes_from_it() -> None:
    # 45 nodes, 15 a zone in secret; 12 one-per-node workloads of 9 pods, 3 on distinct nodes of each zone.
    # So zones keeping every spread exist (each workload exactly 3 a zone); the zones are then forgotten.
    rng = random.Random(7)
    works = [Workload(name=f"ns/Deployment/w{i}", replicas=9, cpu_m=100, memory_mib=128, max_per_node=1,
                      zone_max_skew=1) for i in range(12)]  # fmt: skip
    nodes = [OpenNode(BIG) for _ in range(45)]
    for w in works:
        for zone in range(3):
            for i in rng.sample(range(15 * zone, 15 * zone + 15), 3):
                nodes[i].add(w)
    rng.shuffle(nodes)
    problem = PlanProblem(workloads=works, offerings=[BIG], zones=ZONES)
    domains = {w.name: _domains(problem, w) for w in works}
    start = _greedy(problem, nodes, works, [list(ZONES)] * len(nodes), domains)
    round_robin = [ZONES[i % 3] for i in range(len(nodes))]
    assert (
        _breaks(problem, nodes, works, start, domains)
        <= 2
        < 10
        <= _breaks(problem, nodes, works, round_robin, domains)
    )
    placed = assign_zones(problem, nodes, 1.0)
    assert validate_plan(problem, _plan(problem, placed)).ok
    assert len(placed) == sum(1 for n in nodes if n.pods)  # no pod had to move to a new node
