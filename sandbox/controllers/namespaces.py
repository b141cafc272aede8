"""Namespaces: a new one gets its `default` ServiceAccount; a deleted one is Terminating while it is emptied.

As the namespace controller does, deletion removes the namespace's content (objects with finalizers
are marked for deletion and wait for them), reports what remains in the namespace's conditions, and
removes the namespace shortly after nothing is left, so clients see it `Terminating` first.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.store import Change, now_rfc3339

__all__ = ["FINALIZE_AFTER", "reconcile_namespaces"]

_ROOT_CA = "-----BEGIN CERTIFICATE-----\nsandbox-root-ca\n-----END CERTIFICATE-----\n"
FINALIZE_AFTER = 1.0
"""Seconds between an empty Terminating namespace and its removal (a few seconds upstream)."""


def _condition(kind: str, held: bool, message: str) -> dict[str, Any]:
    reasons = {
        "NamespaceContentRemaining": (
            "SomeResourcesRemain",
            "ContentRemoved",
            "All content successfully removed",
        ),
        "NamespaceFinalizersRemaining": (
            "SomeFinalizersRemain",
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
        ),
    }[kind]
    return {
        "type": kind,
        "status": "True" if held else "False",
        "lastTransitionTime": now_rfc3339(),
        "reason": reasons[0] if held else reasons[1],
        "message": message if held else reasons[2],
    }


def _remove_later(cluster: Cluster, name: str) -> None:
    def finish() -> None:
        with cluster.store.lock:
            namespaces = resource("namespaces")
            ns = cluster.store.find(namespaces, "", name)
            if (
                ns is not None
                and (ns.get("status") or {}).get("phase") == "Terminating"
                and not _empty(cluster, name)[0]
            ):
                cluster.store.delete(namespaces, "", name)
                cluster.settle()

    timer = threading.Timer(FINALIZE_AFTER, finish)
    timer.daemon = True
    timer.start()


def _empty(cluster: Cluster, name: str) -> tuple[Counter[str], Counter[str]]:
    """Delete what can go; what remains by resource, and the finalizers holding it."""
    remaining: Counter[str] = Counter()
    finalizers: Counter[str] = Counter()
    for rt in cluster.types():
        if not rt.namespaced:
            continue
        for obj in cluster.store.list(rt, name):
            meta = obj["metadata"]
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    cluster.mark_deleting(rt, obj)
                remaining[rt.qualified] += 1
                finalizers.update(meta["finalizers"])
            else:
                cluster.store.delete(rt, name, meta["name"])
    return remaining, finalizers


def _finalize(cluster: Cluster, ns: dict[str, Any]) -> None:
    name = ns["metadata"]["name"]
    remaining, finalizers = _empty(cluster, name)
    if not remaining:
        _remove_later(cluster, name)
    content = ", ".join(f"{res} has {n} resource instances" for res, n in sorted(remaining.items()))
    held = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
    conditions = [
        _condition("NamespaceContentRemaining", bool(remaining), f"Some resources are remaining: {content}"),
        _condition(
            "NamespaceFinalizersRemaining",
            bool(finalizers),
            f"Some content in the namespace has finalizers remaining: {held}",
        ),
    ]
    status = {"phase": "Terminating", "conditions": conditions}
    old = ns.get("status") or {}
    if [(c["type"], c["status"], c["message"]) for c in old.get("conditions") or []] != [
        (c["type"], c["status"], c["message"]) for c in conditions
    ]:
        cluster.store.update(resource("namespaces"), {**ns, "status": status}, subresource="status")


def reconcile_namespaces(cluster: Cluster, change: Change) -> None:
    namespaces = resource("namespaces")
    if change.resource.kind != "Namespace":
        ns_name = change.obj["metadata"].get("namespace")
        if ns_name and change.type != "ADDED":
            ns = cluster.store.find(namespaces, "", ns_name)
            if ns is not None and (ns.get("status") or {}).get("phase") == "Terminating":
                _finalize(cluster, ns)  # content went (a finalizer was removed): look again
        return
    if change.type == "DELETED":
        return
    ns = change.obj
    name = ns["metadata"]["name"]
    if ns is not cluster.store.find(change.resource, "", name):
        return
    if change.type == "ADDED":
        if cluster.store.find(resource("serviceaccounts"), name, "default") is None:
            cluster.store.create(
                resource("serviceaccounts"), {"metadata": {"name": "default", "namespace": name}}
            )
        if cluster.store.find(resource("configmaps"), name, "kube-root-ca.crt") is None:
            cluster.store.create(
                resource("configmaps"),
                {"metadata": {"name": "kube-root-ca.crt", "namespace": name}, "data": {"ca.crt": _ROOT_CA}},
            )
        return
    terminating = (ns.get("status") or {}).get("phase") == "Terminating"
    was_terminating = ((change.old or {}).get("status") or {}).get("phase") == "Terminating"
    if terminating and not was_terminating:
        _finalize(cluster, ns)
