"""OpenCost-style cost allocation: each node's price split into CPU and RAM by the unit-price ratio; a pod
is charged max(request, usage) at its node's unit prices; idle = node cost - allocations.

By construction the allocations plus idle equal the node costs exactly (when max(request, usage) overfills a
node, its charges are scaled down to the node's price, so idle is never negative).
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

__all__ = ["Allocation", "NodeCharge", "PodCharge", "allocate"]

# OpenCost's default unit prices ($/core-hour, $/GiB-hour); only their ratio is used.
CPU_TO_RAM_PRICE_RATIO = 0.031611 / 0.004237


class PodCharge(BaseModel):
    namespace: str
    workload: str
    cpu_m: float = Field(description="max(request, usage), millicores.")
    memory_mib: float


class NodeCharge(BaseModel):
    name: str
    usd_per_hour: float
    cpu_m: float
    memory_mib: float
    pods: list[PodCharge]


class Allocation(BaseModel):
    total_usd_per_hour: float
    by_namespace: dict[str, float]
    by_workload: dict[str, float]
    idle_usd_per_hour: float

    def check(self) -> float:
        """Allocated + idle - total: zero up to rounding."""
        return sum(self.by_namespace.values()) + self.idle_usd_per_hour - self.total_usd_per_hour


def allocate(nodes: list[NodeCharge]) -> Allocation:
    by_ns: dict[str, float] = defaultdict(float)
    by_wl: dict[str, float] = defaultdict(float)
    idle = total = 0.0
    for node in nodes:
        total += node.usd_per_hour
        gib = node.memory_mib / 1024
        ram_price = (
            node.usd_per_hour / (CPU_TO_RAM_PRICE_RATIO * node.cpu_m / 1000 + gib)
            if node.usd_per_hour
            else 0.0
        )
        cpu_price = ram_price * CPU_TO_RAM_PRICE_RATIO
        charges = [(p, cpu_price * p.cpu_m / 1000 + ram_price * p.memory_mib / 1024) for p in node.pods]
        charged = sum(c for _, c in charges)
        scale = node.usd_per_hour / charged if charged > node.usd_per_hour else 1.0
        for pod, c in charges:
            by_ns[pod.namespace] += c * scale
            by_wl[pod.workload] += c * scale
        idle += node.usd_per_hour - charged * scale
    return Allocation(
        total_usd_per_hour=total, by_namespace=dict(by_ns), by_workload=dict(by_wl), idle_usd_per_hour=idle
    )
