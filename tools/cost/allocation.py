"""OpenCost-style cost allocation: each node's price split into CPU and RAM by the unit-price ratio; a pod
is charged max(request, usage) at its node's unit prices; idle = node cost - allocations.

By construction the allocations plus idle equal the node costs exactly (when max(request, usage) overfills a
node, its charges are scaled down to the node's price, so idle is never negative).
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from tools.cost.catalog import CatalogError, PriceCatalog
from tools.cost.cluster import ClusterSnapshot
from tools.cost.rightsize import pod_request
from tools.cost.usage.base import ContainerUsage
from verifiers.cost.model import Plan, PlanProblem

__all__ = ["Allocation", "NodeCharge", "PodCharge", "allocate", "current_allocation", "plan_allocation"]

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


def plan_allocation(problem: PlanProblem, plan: Plan) -> Allocation:
    offerings = problem.offering_by_name()
    works = problem.workload_by_name()
    return allocate(
        [
            NodeCharge(
                name=f"{n.offering}#{i}", usd_per_hour=offerings[n.offering].usd_per_hour,
                cpu_m=offerings[n.offering].cpu_m, memory_mib=offerings[n.offering].memory_mib,
                pods=[PodCharge(namespace=works[k].namespace, workload=k, cpu_m=works[k].cpu_m,
                                memory_mib=works[k].memory_mib) for k, c in n.pods.items() for _ in range(c)],
            )
            for i, n in enumerate(plan.nodes)
        ]
    )  # fmt: skip


def current_allocation(
    snapshot: ClusterSnapshot, catalog: PriceCatalog, usage: dict[str, dict[str, ContainerUsage]]
) -> tuple[Allocation | None, list[str]]:
    """Allocation over the cluster's real nodes, or None (with the reason) when a node has no price."""
    charges: dict[str, NodeCharge] = {}
    for node in snapshot.nodes:
        if node.control_plane:
            continue
        if not node.instance_type:
            return None, [f"node {node.name} has no instance-type label"]
        try:
            quote = catalog.quote(node.instance_type, "spot" if node.capacity_type == "spot" else "on-demand")
        except CatalogError as exc:
            return None, [f"node {node.name}: {exc}"]
        charges[node.name] = NodeCharge(
            name=node.name,
            usd_per_hour=quote.usd_per_hour,
            cpu_m=node.cpu_m,
            memory_mib=node.memory_mib,
            pods=[],
        )
    if not charges:
        return None, ["the cluster reports no nodes"]
    for w in snapshot.workloads:
        cpu_req, mem_req = pod_request(w.containers)
        for pod in w.pods:
            if pod.node not in charges:
                continue
            cpu_use = sum(_mean(u.cpu_cores.get(pod.name)) * 1000 for u in usage.get(w.key, {}).values())
            mem_use = sum(_mean(u.memory_bytes.get(pod.name)) / 2**20 for u in usage.get(w.key, {}).values())
            charges[pod.node].pods.append(
                PodCharge(
                    namespace=w.namespace,
                    workload=w.key,
                    cpu_m=max(cpu_req, cpu_use),
                    memory_mib=max(mem_req, mem_use),
                )
            )
    return allocate(list(charges.values())), []


def _mean(values: list[float] | None) -> float:
    return sum(values) / len(values) if values else 0.0
