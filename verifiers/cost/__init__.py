"""Cost-plan checks: the planning model, a repacking validator and a dual-certificate bound check."""

from verifiers.cost.bound import certified_lower_bound
from verifiers.cost.configuration import certified_configuration_bound
from verifiers.cost.model import (
    BoundCertificate,
    CapacityType,
    ConfigurationCertificate,
    Offering,
    Plan,
    PlannedNode,
    PlanProblem,
    Workload,
)
from verifiers.cost.placeable import Placeable, placeable
from verifiers.cost.scheduling import Requirement, Taint, Toleration
from verifiers.cost.validate import Validation, validate_plan

__all__ = [
    "BoundCertificate",
    "CapacityType",
    "ConfigurationCertificate",
    "Offering",
    "Placeable",
    "Plan",
    "PlanProblem",
    "PlannedNode",
    "Requirement",
    "Taint",
    "Toleration",
    "Validation",
    "Workload",
    "certified_configuration_bound",
    "certified_lower_bound",
    "placeable",
    "validate_plan",
]
