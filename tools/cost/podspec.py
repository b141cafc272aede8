"""Scheduling rules read from Kubernetes objects (the official client's models): tolerations, required node
affinity, required pod anti-affinity, topology spread constraints, label selectors, node taints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from verifiers.cost.scheduling import Requirement, Taint, Toleration

__all__ = [
    "AntiAffinityTerm",
    "LabelSelector",
    "SpreadConstraint",
    "anti_affinity",
    "label_selector",
    "node_affinity",
    "spread",
    "taints",
    "tolerations",
]


class LabelSelector(BaseModel):
    """A pod label selector: `matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist)."""

    match_labels: dict[str, str] = Field(default_factory=dict)
    match_expressions: list[Requirement] = Field(default_factory=list)

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels.items()) and all(
            r.matches(labels) for r in self.match_expressions
        )


class AntiAffinityTerm(BaseModel):
    """A required pod anti-affinity term: no two pods it selects share a `topology_key` domain."""

    topology_key: str
    selector: LabelSelector


class SpreadConstraint(BaseModel):
    """A topology spread constraint (only `DoNotSchedule` ones bind a plan)."""

    topology_key: str
    max_skew: int = 1
    when_unsatisfiable: str = "DoNotSchedule"
    selector: LabelSelector = Field(default_factory=LabelSelector)


def _requirements(expressions: Any) -> list[Requirement]:
    return [
        Requirement(key=e.key, operator=e.operator, values=tuple(e.values or ())) for e in expressions or []
    ]


def label_selector(sel: Any) -> LabelSelector:
    if sel is None:
        return LabelSelector()
    return LabelSelector(
        match_labels=dict(sel.match_labels or {}), match_expressions=_requirements(sel.match_expressions)
    )


def tolerations(spec: Any) -> list[Toleration]:
    return [
        Toleration(
            key=t.key or "", operator=t.operator or "Equal", value=t.value or "", effect=t.effect or ""
        )
        for t in spec.tolerations or []
    ]


def node_affinity(spec: Any) -> list[list[Requirement]]:
    """Required node affinity terms (OR of ANDs); node-field selectors are not read."""
    affinity = spec.affinity.node_affinity if spec.affinity else None
    required = affinity.required_during_scheduling_ignored_during_execution if affinity else None
    return [
        _requirements(term.match_expressions) for term in (required.node_selector_terms if required else [])
    ]


def anti_affinity(spec: Any) -> list[AntiAffinityTerm]:
    affinity = spec.affinity.pod_anti_affinity if spec.affinity else None
    terms = (affinity.required_during_scheduling_ignored_during_execution if affinity else None) or []
    return [
        AntiAffinityTerm(topology_key=t.topology_key, selector=label_selector(t.label_selector))
        for t in terms
    ]


def spread(spec: Any) -> list[SpreadConstraint]:
    return [
        SpreadConstraint(topology_key=c.topology_key, max_skew=c.max_skew,
                         when_unsatisfiable=c.when_unsatisfiable, selector=label_selector(c.label_selector))
        for c in spec.topology_spread_constraints or []
    ]  # fmt: skip


def taints(node_spec: Any) -> list[Taint]:
    return [
        Taint(key=t.key, value=t.value or "", effect=t.effect)
        for t in (node_spec.taints if node_spec else None) or []
    ]
