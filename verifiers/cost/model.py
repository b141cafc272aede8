"""The node-planning problem and its answer, shared by the planners (tools/cost) and the checks here.

A problem is a set of workloads (groups of identical pods, with their scheduling constraints) and a set of
offerings (an instance type in one capacity type, with allocatable resources and an hourly price). A plan is a
multiset of nodes, each an offering with a count of pods per workload, plus the pods no offering can hold.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from verifiers.cost.scheduling import ZONE_LABEL, Requirement, Taint, Toleration, terms_match, tolerates_all

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
    "branch-and-price",
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
    taints: tuple[Taint, ...] = Field(default=(), description="Taints every node of this offering carries.")

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
    """A group of identical pods (a Deployment's replicas after right-sizing) and where they may run.

    Availability rules: `max_per_node` (pod anti-affinity on the hostname is 1; "on at least N nodes" is
    ceil(replicas / N)), `max_per_zone` (anti-affinity on the zone is 1), `zone_max_skew` (a topology spread
    over `topology.kubernetes.io/zone`, DoNotSchedule: per-zone counts over the zones the workload may use
    differ by at most this), `separate_from` (required anti-affinity with other workloads, per node).
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="`namespace/kind/name`, unique in a problem.")
    namespace: str = "default"
    replicas: int = Field(ge=0)
    cpu_m: int = Field(ge=0, description="CPU request per pod in millicores.")
    memory_mib: float = Field(ge=0, description="Memory request per pod in MiB.")
    node_selector: dict[str, str] = Field(default_factory=dict)
    node_affinity: tuple[tuple[Requirement, ...], ...] = Field(
        default=(), description="Required node affinity: any term, all of its requirements."
    )
    tolerations: tuple[Toleration, ...] = ()
    spot_allowed: bool = False
    max_spot_share: float = Field(
        default=1.0, ge=0, le=1, description="At most this share of replicas on spot."
    )
    min_spot_pools: int = Field(
        default=1,
        ge=1,
        description="Spread over spot pools: no spot pool holds more than ceil(replicas / min_spot_pools) pods.",
    )
    spot_cap: int | None = Field(
        default=None, ge=0, description="At most this many pods on spot (when lower than the share allows)."
    )
    spot_pool_cap: int | None = Field(
        default=None, ge=1, description="At most this many pods per spot pool (when lower than the spread)."
    )
    max_per_node: int | None = Field(default=None, ge=1)
    max_per_zone: int | None = Field(default=None, ge=1)
    zone_max_skew: int | None = Field(default=None, ge=1)
    separate_from: tuple[str, ...] = Field(
        default=(), description="Workloads whose pods may not share a node with this one's (either way)."
    )

    def allows(self, offering: Offering, zone: str | None = None) -> bool:
        """Whether a pod of this workload may run on a node of `offering` in `zone` (ignoring its size).
        Without a zone, rules on the zone label are left to the zone assignment (treated as met)."""
        if offering.capacity_type == "spot" and (not self.spot_allowed or self.max_spot_cap() == 0):
            return False
        if not tolerates_all(self.tolerations, offering.taints):
            return False
        if not self.node_selector and not self.node_affinity:
            return True  # nothing to match: skip building the labels (millions of calls on large plans)
        labels = offering.node_labels()
        if zone is not None:
            labels[ZONE_LABEL] = zone
        for k, v in self.node_selector.items():
            if (zone is not None or k != ZONE_LABEL) and labels.get(k) != v:
                return False
        terms = self.node_affinity
        if zone is None:
            terms = tuple(tuple(r for r in term if r.key != ZONE_LABEL) for term in terms)
        return terms_match(terms, labels)

    def fits(self, offering: Offering) -> bool:
        """Whether one pod fits on an empty node of `offering`."""
        return (
            self.cpu_m <= offering.cpu_m
            and self.memory_mib <= offering.memory_mib + 1e-9
            and offering.max_pods >= 1
        )

    def max_spot_cap(self) -> int:
        """Most replicas allowed on spot in total."""
        if not self.spot_allowed:
            return 0
        cap = math.floor(self.max_spot_share * self.replicas + 1e-9)
        return cap if self.spot_cap is None else min(cap, self.spot_cap)

    def pool_cap(self) -> int:
        """Most replicas allowed on any one spot pool."""
        cap = math.ceil(self.replicas / self.min_spot_pools) if self.replicas else 0
        return cap if self.spot_pool_cap is None else min(cap, self.spot_pool_cap)

    def per_node(self) -> int:
        """Most of its pods on one node."""
        return self.replicas if self.max_per_node is None else min(self.replicas, self.max_per_node)


class PlanProblem(BaseModel):
    workloads: list[Workload]
    offerings: list[Offering]
    zones: list[str] = Field(
        default_factory=list, description="Zones a node may be placed in; empty: zones are not planned."
    )

    def offering_by_name(self) -> dict[str, Offering]:
        return {o.name: o for o in self.offerings}

    def workload_by_name(self) -> dict[str, Workload]:
        return {w.name: w for w in self.workloads}


class PlannedNode(BaseModel):
    offering: str = Field(description="Offering name, `<instance type>/<capacity type>`.")
    pods: dict[str, int] = Field(description="Workload name -> number of its pods on this node.")
    zone: str = Field(default="", description="The node's zone (one of the problem's zones, if it has any).")


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
        default_factory=dict, description="Workload name -> pods the constraints leave without a node."
    )
    unplaceable_reasons: dict[str, str] = Field(
        default_factory=dict, description="Workload name -> the constraint that cannot be met."
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
