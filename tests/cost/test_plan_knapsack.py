"""One node's knapsack, in the planner (pricing, pattern listing) and in the verifier (its own), against
exhaustive enumeration on small random nodes."""

from __future__ import annotations

import itertools
import random

import pytest

from tools.cost.plan.knapsack import Item, Node, best_load, loads_worth
from verifiers.cost import Offering, Workload
from verifiers.cost.configuration import best_node_value


def _instance(seed: int) -> tuple[Node, list[Item]]:
    rng = random.Random(seed)
    node = Node(
        rng.choice([1930, 3920, 7910]), float(rng.choice([3000, 6525, 14103])), rng.choice([4, 8, 29])
    )
    items = [
        Item(k, rng.choice([250, 500, 900, 1000, 2000]), float(rng.choice([256, 384, 896, 1792, 3584])),
             rng.uniform(-0.01, 0.05), rng.randint(1, 5))
        for k in range(rng.randint(1, 4))
    ]  # fmt: skip
    return node, items


def _all_loads(node: Node, items: list[Item]) -> list[tuple[float, tuple[int, ...]]]:
    out = []
    for counts in itertools.product(*(range(it.most + 1) for it in items)):
        cpu = sum(c * it.cpu_m for c, it in zip(counts, items, strict=True))
        mem = sum(c * it.memory_mib for c, it in zip(counts, items, strict=True))
        if cpu <= node.cpu_m and mem <= node.memory_mib and sum(counts) <= node.max_pods:
            out.append((sum(c * it.value for c, it in zip(counts, items, strict=True)), counts))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_knapsacks_match_enumeration(seed: int) -> None:
    node, items = _instance(seed)
    loads = _all_loads(node, items)
    best = max(v for v, _ in loads)
    value, cap, load = best_load(node, items)
    assert value == pytest.approx(best, abs=1e-12) and cap >= best - 1e-12
    assert value == pytest.approx(sum(it.value * load.get(it.key, 0) for it in items), abs=1e-12)
    # the verifier's own knapsack caps the best load too, and tightly
    offering = Offering(instance_type="n", cpu_m=int(node.cpu_m), memory_mib=node.memory_mib,
                        max_pods=node.max_pods, usd_per_hour=1.0)  # fmt: skip
    works = [(Workload(name=f"w{it.key}", replicas=it.most, cpu_m=int(it.cpu_m), memory_mib=it.memory_mib),
              it.value, it.most) for it in items]  # fmt: skip
    proven, _ = best_node_value(offering, works)
    assert best - 1e-12 <= proven <= best * (1 + 2e-4) + 1e-12
    # every load worth at least a threshold is listed, and nothing else
    threshold = best - 0.02
    listed = {tuple(load.get(it.key, 0) for it in items) for _, load in loads_worth(node, items, threshold)}
    assert listed == {c for v, c in loads if v >= threshold and any(c)}


def test_a_key_spread_over_items_of_falling_value_comes_back_summed() -> None:
    # one pod class priced as a run: the first pod 3.0, the next two 1.0 each (a node-count row's price)
    items = [Item(0, 1000, 1024, 3.0, 1), Item(0, 1000, 1024, 1.0, 2), Item(1, 2000, 1024, 1.5, 2)]
    node = Node(4000, 8192, 10)
    worth, cap, load = best_load(node, items)
    assert load == {0: 2, 1: 1} and worth == pytest.approx(5.5)  # 3 + 1 + 1.5 beats 3 + 1 + 1 (+ room)
    assert worth <= cap
    for value, found in loads_worth(node, items, 5.0):
        assert sum(found.values()) <= 4 and value >= 5.0
    assert any(found == {0: 2, 1: 1} for _, found in loads_worth(node, items, 5.0))
