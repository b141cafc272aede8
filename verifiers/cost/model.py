"""The node-planning problem and its answer, shared by the planners (tools/cost) and the checks here.

A problem is a set of workloads (groups of identical pods, with their scheduling constraints) and a set of
offerings (an instance type in one capacity type, with allocatable resources and an hourly price). A plan is a
multiset of nodes, each an offering with a count of pods per workload, plus the pods no offering can hold.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BoundCertificate",
    "BoundSource",
    "CapacityType",
    "ConfigurationCertificate",
    "Offering",
    "Plan",
    "PlanProblem",
    "PlannedNode",
    "Workload",
]

CapacityType = Literal["on-demand", "spot"]
BoundSource = Literal[
    "cp-sat-optimal",
    "cp-sat-bound",
    "milp-bound",
    "lp-dual",
    "configuration-lp",
    "pattern-milp",
    "none",
]


class Offering(BaseModel):
    """One instance type in one capacity type: what a node of it can hold and what it costs per hour."""

    model_config = ConfigDict(frozen=True)

    instance_type: str
    capacity_type: CapacityType = "on-demand"
    cpu_m: int = Field(gt=0, description="Allocatable CPU in millicores.")
    memory_mib: float = Field(gt=0, description="Allocatable memory in MiB.")
    max_pods: int = Field(default=110, gt=0)
    usd_per_hour: float = Field(ge=0)
    arch: str = "amd64"
    region: str = ""
    interruption_bucket: int | None = Field(default=None, description="Spot Advisor bucket 0..4 (spot only).")
    labels: dict[str, str] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        """The pool: an instance type in one capacity type (`m7i.large/spot`)."""
        return f"{self.instance_type}/{self.capacity_type}"

    def node_labels(self) -> dict[str, str]:
        """The well-known labels a node of this offering carries, for matching node selectors."""
        return {
            "node.kubernetes.io/instance-type": self.instance_type,
            "kubernetes.io/arch": self.arch,
            "kubernetes.io/os": "linux",  # the catalogs hold Linux prices
            "karpenter.sh/capacity-type": self.capacity_type,
            "topology.kubernetes.io/region": self.region,
            **self.labels,
        }


class Workload(BaseModel):
    """A group of identical pods (a Deployment's replicas after right-sizing) and where they may run."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="`namespace/kind/name`, unique in a problem.")
    namespace: str = "default"
    replicas: int = Field(ge=0)
    cpu_m: int = Field(ge=0, description="CPU request per pod in millicores.")
    memory_mib: float = Field(ge=0, description="Memory request per pod in MiB.")
    node_selector: dict[str, str] = Field(default_factory=dict)
    spot_allowed: bool = False
    max_spot_share: float = Field(
        default=1.0, ge=0, le=1, description="At most this share of replicas on spot."
    )
    min_spot_pools: int = Field(
        default=1,
        ge=1,
        description="Spread over spot pools: no spot pool holds more than ceil(replicas / min_spot_pools) pods.",
    )

    def allows(self, offering: Offering) -> bool:
        """Whether a pod of this workload may run on a node of `offering` (ignoring its size)."""
        if offering.capacity_type == "spot" and (not self.spot_allowed or self.max_spot_cap() == 0):
            return False
        labels = offering.node_labels()
        return all(labels.get(k) == v for k, v in self.node_selector.items())

    def fits(self, offering: Offering) -> bool:
        """Whether one pod fits on an empty node of `offering`."""
        return (
            self.cpu_m <= offering.cpu_m
            and self.memory_mib <= offering.memory_mib + 1e-9
            and offering.max_pods >= 1
        )

    def max_spot_cap(self) -> int:
        """Most replicas allowed on spot in total."""
        return math.floor(self.max_spot_share * self.replicas + 1e-9) if self.spot_allowed else 0

    def pool_cap(self) -> int:
        """Most replicas allowed on any one spot pool."""
        return math.ceil(self.replicas / self.min_spot_pools) if self.replicas else 0


class PlanProblem(BaseModel):
    workloads: list[Workload]
    offerings: list[Offering]

    def offering_by_name(self) -> dict[str, Offering]:
        return {o.name: o for o in self.offerings}

    def workload_by_name(self) -> dict[str, Workload]:
        return {w.name: w for w in self.workloads}


class PlannedNode(BaseModel):
    offering: str = Field(description="Offering name, `<instance type>/<capacity type>`.")
    pods: dict[str, int] = Field(description="Workload name -> number of its pods on this node.")


class BoundCertificate(BaseModel):
    """Dual prices that prove a lower bound by weak LP duality (checked by `verifiers.cost.bound`).

    `resource_prices[offering] = [per millicore, per MiB, per pod slot]` ($/h); `spot_share_prices[workload]`
    is the price of the max-spot-share row; `pool_prices[workload][offering]` that of a spot-pool cap.
    Any non-negative values give a valid bound; good ones (an optimal LP dual) give a tight one.
    """

    resource_prices: dict[str, tuple[float, float, float]]
    spot_share_prices: dict[str, float] = Field(default_factory=dict)
    pool_prices: dict[str, dict[str, float]] = Field(default_factory=dict)


class ConfigurationCertificate(BaseModel):
    """Dual prices of the configuration LP (checked by `verifiers.cost.configuration`).

    `pod_prices[workload]` is what one of its pods is worth ($/h), `spot_share_prices[workload]` the price of
    its max-spot-share row and `pool_prices[workload][offering]` that of a spot-pool cap. Any non-negative
    values give a valid bound (scaled down until no node is worth more than its price).
    """

    pod_prices: dict[str, float]
    spot_share_prices: dict[str, float] = Field(default_factory=dict)
    pool_prices: dict[str, dict[str, float]] = Field(default_factory=dict)


class Plan(BaseModel):
    nodes: list[PlannedNode]
    unplaceable: dict[str, int] = Field(
        default_factory=dict, description="Workload name -> pods no allowed offering can hold."
    )
    hourly_cost: float
    lower_bound: float = Field(description="Proven lower bound on the hourly cost of any feasible plan.")
    bound_source: BoundSource
    status: Literal["optimal", "feasible"]
    solver: str
    solve_seconds: float = 0.0
    certificate: BoundCertificate | None = None
    configuration_certificate: ConfigurationCertificate | None = None

    @property
    def gap(self) -> float:
        """Relative distance from the cost to the proven lower bound (0 means proven optimal)."""
        if self.hourly_cost <= 0:
            return 0.0
        return max(0.0, (self.hourly_cost - self.lower_bound) / self.hourly_cost)
