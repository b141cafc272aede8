"""Kubernetes scheduling rules a planned node must satisfy for a pod: label requirements (node selectors and
required node affinity), taints and tolerations. Semantics as the kube-scheduler applies them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ZONE_LABEL", "Requirement", "Taint", "Toleration", "terms_match", "tolerates_all"]

ZONE_LABEL = "topology.kubernetes.io/zone"


class Requirement(BaseModel):
    """One node-selector requirement (`matchExpressions` entry)."""

    model_config = ConfigDict(frozen=True)

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        value = labels.get(self.key)
        if self.operator == "In":
            return value is not None and value in self.values
        if self.operator == "NotIn":
            return value is None or value not in self.values
        if self.operator == "Exists":
            return value is not None
        if self.operator == "DoesNotExist":
            return value is None
        try:  # Gt / Lt compare integers; a label that is not one fails, as in Kubernetes
            number, bound = int(value or ""), int(self.values[0])
        except (ValueError, IndexError):
            return False
        return number > bound if self.operator == "Gt" else number < bound


def terms_match(terms: tuple[tuple[Requirement, ...], ...], labels: dict[str, str]) -> bool:
    """Required node affinity: any term (OR) whose requirements all hold (AND); no terms always match."""
    return not terms or any(all(r.matches(labels) for r in term) for term in terms)


class Taint(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class Toleration(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str = Field(default="", description="Empty with operator Exists tolerates every taint.")
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"] = ""

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if not self.key:
            return self.operator == "Exists"
        if self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value


def tolerates_all(tolerations: tuple[Toleration, ...], taints: tuple[Taint, ...]) -> bool:
    """Whether a pod may be scheduled on a node with these taints (PreferNoSchedule never blocks)."""
    return all(t.effect == "PreferNoSchedule" or any(tol.tolerates(t) for tol in tolerations) for t in taints)
