"""Garbage collection by owner references: deleting an owner deletes its dependents (background policy)."""

from __future__ import annotations

from sandbox.cluster import Cluster
from sandbox.store import Change

__all__ = ["reconcile_garbage"]


def reconcile_garbage(cluster: Cluster, change: Change) -> None:
    if change.type != "DELETED":
        return
    uid = change.obj["metadata"].get("uid", "")
    for rt, obj in cluster.store.dependents(uid):
        refs = obj["metadata"].get("ownerReferences") or []
        remaining = [r for r in refs if r.get("uid") != uid]
        meta = obj["metadata"]
        if remaining:
            cluster.store.update(rt, {**obj, "metadata": {**meta, "ownerReferences": remaining}})
        elif cluster.store.find(rt, meta.get("namespace", ""), meta["name"]) is obj:
            cluster.store.delete(rt, meta.get("namespace", ""), meta["name"])
