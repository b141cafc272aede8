"""DaemonSet overhead: every node of a plan runs one pod of each DaemonSet that selects it, so the room a
node offers the planned workloads is its allocatable less those pods' requests (as Karpenter computes it).

Only node selectors decide which nodes a DaemonSet selects; node affinity and taints are not read, so a
DaemonSet restricted by affinity is counted on every node (the plan errs towards room to spare).
"""

from __future__ import annotations

from tools.cost.cluster import ClusterDaemonSet
from verifiers.cost.model import Offering

__all__ = ["reserve_daemonsets"]


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
        labels = o.node_labels()
        on_node = [d for d in daemonsets if all(labels.get(k) == v for k, v in d.node_selector.items())]
        cpu = sum(requests[d.key][0] for d in on_node)
        mem = sum(requests[d.key][1] for d in on_node)
        left_cpu, left_mem, left_pods = o.cpu_m - cpu, o.memory_mib - mem, o.max_pods - len(on_node)
        if left_cpu < 1 or left_mem <= 0 or left_pods < 1:
            too_small.add(o.instance_type)
            continue
        kept.append(
            o.model_copy(update={"cpu_m": int(left_cpu), "memory_mib": left_mem, "max_pods": left_pods})
        )
    everywhere = [requests[d.key] for d in daemonsets if not d.node_selector]
    cpu = sum(c for c, _ in everywhere)
    mem = sum(m for _, m in everywhere)
    notes = [
        f"{len(daemonsets)} DaemonSets ({', '.join(sorted(d.key for d in daemonsets)[:5])}"
        f"{', ...' if len(daemonsets) > 5 else ''}) run on the planned nodes: each node's room for the "
        f"workloads excludes their requests ({cpu:.0f}m CPU and {mem:.0f} MiB on every node"
        f"{', more where node selectors match' if len(everywhere) < len(daemonsets) else ''})"
    ]
    if too_small:
        notes.append(
            "instance types with no room left after DaemonSets, not planned: " + ", ".join(sorted(too_small))
        )
    return kept, notes
