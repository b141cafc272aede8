"""A workload's availability rules for the planner, from its pod spec and opsgraph's defaults.

From the spec: required pod anti-affinity on the hostname (one pod per node) or the zone (one per zone),
against itself or other workloads (per node); `DoNotSchedule` topology spreads over the hostname (at most
max skew per node, since a new node is always an empty domain) and the zone (per-zone counts within the
skew); required node affinity; tolerations. opsgraph's default: two or more replicas never share a node,
unless the workload says otherwise with the annotation `opsgraph.io/max-per-node` ("N", or "none").
Rules the planner does not model are named, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.cost.cluster import ClusterWorkload
from verifiers.cost.scheduling import ZONE_LABEL

__all__ = ["HOSTNAME", "Rules", "availability_rules"]

HOSTNAME = "kubernetes.io/hostname"


@dataclass
class Rules:
    fields: dict[str, Any] = field(default_factory=dict)
    """Workload fields: max_per_node, max_per_zone, zone_max_skew, separate_from, node_affinity, tolerations."""
    defaulted: bool = False
    """The per-node cap is opsgraph's default, not in the spec (a NodePool proposal must add it)."""
    notes: list[str] = field(default_factory=list)


def _cap(rules: Rules, key: str, value: int) -> None:
    rules.fields[key] = min(value, rules.fields.get(key, value))


def availability_rules(w: ClusterWorkload, workloads: list[ClusterWorkload]) -> Rules:
    rules = Rules()
    own = w.pod_labels
    peers = [o for o in workloads if o.namespace == w.namespace and o.key != w.key]
    separate: list[str] = []
    for term in w.anti_affinity:
        mine = bool(own) and term.selector.matches(own)
        others = [o.key for o in peers if o.pod_labels and term.selector.matches(o.pod_labels)]
        if term.topology_key == HOSTNAME:
            if mine:
                _cap(rules, "max_per_node", 1)
            separate += others
        elif term.topology_key == ZONE_LABEL and mine and not others:
            _cap(rules, "max_per_zone", 1)
        else:
            rules.notes.append(
                f"{w.key}: pod anti-affinity over {term.topology_key}"
                + (" against other workloads" if others else "")
                + " is not modelled by the planner"
            )
    for c in w.spread:
        if not (own and c.selector.matches(own)):
            rules.notes.append(
                f"{w.key}: a topology spread over {c.topology_key} that does not select its own pods is not modelled"
            )
        elif c.when_unsatisfiable != "DoNotSchedule":
            rules.notes.append(
                f"{w.key}: the spread over {c.topology_key} is ScheduleAnyway (a preference): not enforced"
            )
        elif c.topology_key == HOSTNAME:
            _cap(rules, "max_per_node", c.max_skew)
        elif c.topology_key == ZONE_LABEL:
            _cap(rules, "zone_max_skew", c.max_skew)
        elif c.topology_key != "karpenter.sh/capacity-type":  # the spot share stands for that one
            rules.notes.append(f"{w.key}: the topology spread over {c.topology_key} is not modelled")
    setting = w.annotations.get("opsgraph.io/max-per-node", "").strip().lower()
    if setting.isdigit() and int(setting) > 0:
        _cap(rules, "max_per_node", int(setting))
    elif setting not in ("none", "any") and "max_per_node" not in rules.fields and w.replicas >= 2:
        rules.fields["max_per_node"], rules.defaulted = 1, True
    if separate:
        rules.fields["separate_from"] = tuple(sorted(set(separate)))
    if w.node_affinity:
        rules.fields["node_affinity"] = tuple(tuple(term) for term in w.node_affinity)
    if w.tolerations:
        rules.fields["tolerations"] = tuple(w.tolerations)
    return rules
