"""DaemonSet overhead: every node of a plan runs one pod of each DaemonSet that selects it, so the room a
node offers the planned workloads is its allocatable less those pods' requests (as Karpenter computes it).

A DaemonSet runs on a node when its node selector and required node affinity match the node's labels and
its tolerations tolerate the node's taints (NoSchedule and NoExecute; the controller's own tolerations are
for conditions a healthy node does not have). Planned nodes get their zone later, so a requirement on the
zone label counts as met: such a DaemonSet is counted on every zone's nodes (room to spare, never too
little).
"""

from __future__ import annotations

from tools.cost.cluster import ClusterDaemonSet
from verifiers.cost.model import Offering
from verifiers.cost.scheduling import ZONE_LABEL, tolerates_all

__all__ = ["reserve_daemonsets", "runs_on"]


def runs_on(daemonset: ClusterDaemonSet, offering: Offering) -> bool:
    """Whether the DaemonSet puts a pod on a node of `offering` (in any zone: zone rules count as met)."""
    labels = offering.node_labels()
    if any(k != ZONE_LABEL and labels.get(k) != v for k, v in daemonset.node_selector.items()):
        return False
    terms = daemonset.node_affinity
    matched = not terms or any(all(r.key == ZONE_LABEL or r.matches(labels) for r in term) for term in terms)
    return matched and tolerates_all(tuple(daemonset.tolerations), offering.taints)


def reserve_daemonsets(
    offerings: list[Offering], daemonsets: list[ClusterDaemonSet]
) -> tuple[list[Offering], list[str]]:
    """The offerings with each node's DaemonSet pods taken out, and notes saying what was reserved and which
    instance types are left with no room at all (dropped)."""
    if not daemonsets:
        return offerings, []
    requests = {d.key: d.requests() for d in daemonsets}
    kept: list[Offering] = []
    too_small: set[str] = set()
    for o in offerings:
        on_node = [d for d in daemonsets if runs_on(d, o)]
        cpu = sum(requests[d.key][0] for d in on_node)
        mem = sum(requests[d.key][1] for d in on_node)
        left_cpu, left_mem, left_pods = o.cpu_m - cpu, o.memory_mib - mem, o.max_pods - len(on_node)
        if left_cpu < 1 or left_mem <= 0 or left_pods < 1:
            too_small.add(o.instance_type)
            continue
        kept.append(
            o.model_copy(update={"cpu_m": int(left_cpu), "memory_mib": left_mem, "max_pods": left_pods})
        )
    everywhere = [requests[d.key] for d in daemonsets if all(runs_on(d, o) for o in offerings)]
    cpu = sum(c for c, _ in everywhere)
    mem = sum(m for _, m in everywhere)
    notes = [
        f"{len(daemonsets)} DaemonSets ({', '.join(sorted(d.key for d in daemonsets)[:5])}"
        f"{', ...' if len(daemonsets) > 5 else ''}) run on the planned nodes: each node's room for the "
        f"workloads excludes their requests ({cpu:.0f}m CPU and {mem:.0f} MiB on every node"
        f"{', more where their node selectors, node affinity and tolerations allow' if len(everywhere) < len(daemonsets) else ''})"
    ]
    if too_small:
        notes.append(
            "instance types with no room left after DaemonSets, not planned: " + ", ".join(sorted(too_small))
        )
    return kept, notes
