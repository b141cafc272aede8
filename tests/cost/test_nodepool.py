"""The NodePool proposal reproduces the plan: separate on-demand and spot pools with limits and weights, and
Karpenter's provisioning (simulated) of the proposal lands within 10 % of the plan's cost with every pod
placed and every availability rule kept (spot shares within one replica: see docs/cost.md)."""

from __future__ import annotations

import re

import pytest
import yaml

from eval.suites.cost import build_problem, ha_workloads
from tools.cost.plan import plan_nodes
from tools.cost.proposal import check_proposal, propose
from verifiers.cost import PlanProblem

WITHIN = 0.10


def _problem(seed: int, ha: bool) -> PlanProblem:
    base = build_problem("synthetic", 100, seed)
    if not ha:
        return base
    return PlanProblem(
        workloads=ha_workloads(100, seed), offerings=base.offerings, zones=["z-a", "z-b", "z-c"]
    )


@pytest.mark.parametrize(("seed", "ha"), [(1, False), (2, False), (3, True)])
def test_karpenter_on_the_proposal_reproduces_the_plan(seed: int, ha: bool) -> None:
    problem = _problem(seed, ha)
    plan = plan_nodes(problem, effort=0.1, exact_max_pods=0)  # the proposal is under test, not the proof
    defaulted = {w.name for w in problem.workloads if w.max_per_node == 1}
    proposal = propose(problem, plan, defaulted=defaulted)
    check = check_proposal(problem, plan, proposal)
    assert not check.pending
    assert check.ratio <= 1 + WITHIN, (check.hourly_cost, plan.hourly_cost)
    for error in check.violations:  # a capacity-type spread may give spot one more of an odd replica count
        found = re.search(r"(\d+) pods on spot exceed the cap (\d+)", error)
        assert found and int(found[1]) == int(found[2]) + 1, error
    docs = [d for d in yaml.safe_load_all(proposal.yaml()) if d]
    pools = [d for d in docs if d["kind"] == "NodePool"]
    kinds = {tuple(r["values"]) for p in pools for r in p["spec"]["template"]["spec"]["requirements"]
             if r["key"] == "karpenter.sh/capacity-type"}  # fmt: skip
    assert kinds <= {("on-demand",), ("spot",)}  # every pool one capacity type
    for p in pools:
        spot = p["spec"]["template"]["spec"]["requirements"][0]["values"] == ["spot"]
        assert spot == bool(p["spec"]["template"]["spec"].get("taints"))  # spot pools are tainted
        assert ("limits" in p["spec"]) == (p["spec"]["weight"] > 1)  # planned pools are capped, fallbacks not
    if ha:
        patched = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
        assert {w.name.rsplit("/", 1)[-1] for w in problem.workloads if w.name in defaulted} <= patched
