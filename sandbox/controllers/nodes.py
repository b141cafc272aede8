"""Node heartbeats: each node's Lease in `kube-node-lease` (renewed every tick, as the kubelet renews it
every 10 s) and the `lastHeartbeatTime` of its conditions (refreshed when older than the kubelet's
5-minute status report)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.store import Change, now_rfc3339, parse_rfc3339

__all__ = ["reconcile_nodes"]

_LEASE_SECONDS = 40
_REPORT_EVERY = 300.0
_LEASE_NS = "kube-node-lease"


def _micro(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lease(cluster: Cluster, node: dict[str, Any], renew: bool = True) -> None:
    leases = resource("leases", "coordination.k8s.io")
    name = node["metadata"]["name"]
    if cluster.store.find(resource("namespaces"), "", _LEASE_NS) is None:
        return
    current = cluster.store.find(leases, _LEASE_NS, name)
    spec = {"holderIdentity": name, "leaseDurationSeconds": _LEASE_SECONDS, "renewTime": _micro(time.time())}
    if current is None:
        owner = {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}
        cluster.store.create(
            leases,
            {"metadata": {"name": name, "namespace": _LEASE_NS, "ownerReferences": [owner]}, "spec": spec},
        )
    elif renew:
        cluster.store.update(leases, {**current, "spec": {**current["spec"], "renewTime": spec["renewTime"]}})


def _heartbeat(cluster: Cluster, node: dict[str, Any]) -> None:
    conditions = (node.get("status") or {}).get("conditions") or []
    beats = [parse_rfc3339(c["lastHeartbeatTime"]) for c in conditions if c.get("lastHeartbeatTime")]
    if len(beats) == len(conditions) and time.time() - min(beats, default=0) < _REPORT_EVERY:
        return
    now = now_rfc3339()
    created = node["metadata"].get("creationTimestamp") or now
    fresh = [
        {**c, "lastHeartbeatTime": now, "lastTransitionTime": c.get("lastTransitionTime") or created}
        for c in conditions
    ]
    if fresh != conditions:
        cluster.store.update(
            resource("nodes"),
            {**node, "status": {**node["status"], "conditions": fresh}},
            subresource="status",
        )


def _tick(cluster: Cluster) -> None:
    for node in cluster.store.list(resource("nodes")):
        _lease(cluster, node)
        _heartbeat(cluster, node)


def reconcile_nodes(cluster: Cluster, change: Change) -> None:
    if change.resource.kind != "Node" or change.type != "ADDED":
        return
    node = cluster.store.find(change.resource, "", change.obj["metadata"]["name"])
    if node is change.obj:
        _heartbeat(cluster, node)  # a node restored from a state file keeps its recent heartbeat
        _lease(
            cluster,
            cluster.store.find(change.resource, "", change.obj["metadata"]["name"]) or node,
            renew=False,
        )


reconcile_nodes.tick = _tick  # type: ignore[attr-defined]
