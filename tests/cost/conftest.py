"""Shared fixtures for the cost tests: small hand-made offerings and a brute-force optimum."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator

import pytest

from verifiers.cost import Offering, PlanProblem, Workload


def offering(name: str, cpu: int, mem: float, price: float, spot: bool = False, pods: int = 110) -> Offering:
    return Offering(
        instance_type=name,
        capacity_type="spot" if spot else "on-demand",
        cpu_m=cpu,
        memory_mib=mem,
        max_pods=pods,
        usd_per_hour=price,
        interruption_bucket=1 if spot else None,
    )


SMALL_OFFERINGS = [
    offering("s", 2000, 4096, 0.10),
    offering("m", 4000, 8192, 0.19),
    offering("hm", 2000, 16384, 0.16),
    offering("s", 2000, 4096, 0.04, spot=True),
    offering("t", 1000, 2048, 0.06, spot=True),
]


def random_problem(seed: int, pods: int = 6, spot: bool = True, rules: bool = False) -> PlanProblem:
    rng = random.Random(seed)
    works: list[Workload] = []
    left, k = pods, 0
    while left:
        n = min(left, rng.randint(1, 3))
        allowed = spot and rng.random() < 0.6
        works.append(
            Workload(
                name=f"ns/Deployment/w{k}",
                namespace="ns",
                replicas=n,
                cpu_m=rng.choice([250, 500, 900, 1500]),
                memory_mib=rng.choice([512, 1024, 3000, 6000]),
                spot_allowed=allowed,
                max_spot_share=rng.choice([0.5, 1.0]) if allowed else 1.0,
                min_spot_pools=rng.choice([1, 2]) if allowed else 1,
                max_per_node=rng.choice([None, 1, 2]) if rules else None,
                separate_from=(f"ns/Deployment/w{k - 1}",) if rules and k and rng.random() < 0.3 else (),
            )
        )
        left -= n
        k += 1
    return PlanProblem(workloads=works, offerings=SMALL_OFFERINGS)


def _partitions(items: list[int]) -> Iterator[list[list[int]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1 :]]
        yield [[first], *part]


def brute_force_optimum(problem: PlanProblem) -> float:
    """Cheapest feasible plan by trying every partition of the pods and every offering per block."""
    pods = [w for w in problem.workloads for _ in range(w.replicas)]
    best = math.inf
    for part in _partitions(list(range(len(pods)))):
        options = []
        for block in part:
            ws = [pods[i] for i in block]
            names = [w.name for w in ws]
            if any(names.count(w.name) > w.per_node() or set(w.separate_from) & set(names) for w in ws):
                break  # per-node caps and anti-affinity
            fits = [
                o
                for o in problem.offerings
                if all(w.allows(o) for w in ws)
                and sum(w.cpu_m for w in ws) <= o.cpu_m
                and sum(w.memory_mib for w in ws) <= o.memory_mib
                and len(ws) <= o.max_pods
            ]
            if not fits:
                break
            options.append(fits)
        else:
            for choice in itertools.product(*options):
                cost = sum(o.usd_per_hour for o in choice)
                if cost >= best:
                    continue
                spot: dict[str, int] = {}
                pools: dict[tuple[str, str], int] = {}
                for block, o in zip(part, choice, strict=True):
                    if o.capacity_type == "spot":
                        for i in block:
                            spot[pods[i].name] = spot.get(pods[i].name, 0) + 1
                            key = (pods[i].name, o.name)
                            pools[key] = pools.get(key, 0) + 1
                ws = problem.workload_by_name()
                if all(n <= ws[k].max_spot_cap() for k, n in spot.items()) and all(
                    n <= ws[k].pool_cap() for (k, _), n in pools.items()
                ):
                    best = cost
    return best


@pytest.fixture
def small_problem() -> PlanProblem:
    return random_problem(0)


@pytest.fixture
def make_problem() -> object:
    """`make_problem(seed, pods=6, spot=True, rules=False) -> PlanProblem` on the small offerings; `rules`
    adds per-node caps and anti-affinity between workloads."""
    return random_problem


@pytest.fixture
def brute_force() -> object:
    """`brute_force(problem) -> float`: the optimum hourly cost by exhaustive search."""
    return brute_force_optimum


# The sandbox cluster fixture (one sandbox per session), for the end-to-end tests.
from sandbox.testing import sandbox_cluster, sandbox_namespace  # noqa: E402, F401
