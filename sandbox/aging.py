"""Give a freshly loaded scenario the ages a real cluster has: what the scenario wrote at load time is
backdated to follow its owners, so `kubectl get` shows days-old nodes and pods, and events are spread
over the life of what they are about instead of sharing one timestamp.

- Nodes and the system namespaces are `CLUSTER_AGE_DAYS` old.
- An object a controller made (ownerReferences) is a few seconds younger than its owner; a
  ReplicaSet of a later revision is a recent rollout (`ROLLOUT_AGE`).
- Anything else made at load time (ServiceAccounts, Endpoints, ConfigMaps the namespace controller
  adds) is as old as its namespace; a namespace is as old as its oldest content.
- An event starts when what it is about was created (a second apart per event) and, when it repeated,
  was last seen in the last few minutes.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.store import parse_rfc3339, rfc3339

__all__ = ["CLUSTER_AGE_DAYS", "ROLLOUT_AGE", "age_scenario"]

CLUSTER_AGE_DAYS = 30
ROLLOUT_AGE = 2 * 3600.0
_REVISION = "deployment.kubernetes.io/revision"
_SYSTEM = ("default", "kube-system", "kube-public", "kube-node-lease")


def _created(obj: dict[str, Any]) -> float:
    stamp = obj["metadata"].get("creationTimestamp")
    return parse_rfc3339(stamp) if stamp else time.time()


def age_scenario(cluster: Cluster, loaded_at: float) -> None:
    """Backdate what the scenario created at `loaded_at` or later (call once, right after loading)."""
    store = cluster.store
    born = time.time() - CLUSTER_AGE_DAYS * 86400
    fresh = int(loaded_at)  # timestamps have whole seconds
    new_age: dict[str, float] = {}

    def age_of(obj: dict[str, Any]) -> float:
        return new_age.get(obj["metadata"].get("uid", ""), _created(obj))

    def restamp(rt: Any, obj: dict[str, Any], when: float) -> None:
        new_age[obj["metadata"]["uid"]] = when
        store.restamp(rt, obj, rfc3339(when))

    for node in store.list(resource("nodes")):
        if _created(node) >= fresh:
            restamp(resource("nodes"), node, born)
    by_uid = {o["metadata"]["uid"]: o for rt in cluster.types() for o in store.list(rt)}
    owned = []
    for rt in cluster.types():
        if rt.kind in ("Event", "Node"):
            continue
        for obj in store.list(rt):
            if _created(obj) < fresh:
                continue
            owners = [
                by_uid[r["uid"]]
                for r in obj["metadata"].get("ownerReferences") or []
                if r.get("uid") in by_uid
            ]
            if owners:
                owned.append((rt, obj, owners[0]))
    # owners before what they own: a Deployment's ReplicaSet before the ReplicaSet's pods
    for _ in range(3):
        for rt, obj, owner in owned:
            base = age_of(owner)
            if (
                rt.kind == "ReplicaSet"
                and (obj["metadata"].get("annotations") or {}).get(_REVISION, "1") != "1"
            ):
                base = max(base, time.time() - ROLLOUT_AGE)
            offset = 2 + sum(map(ord, obj["metadata"]["name"])) % 5
            restamp(rt, obj, min(base + offset, time.time()))
    namespaces = resource("namespaces")
    for ns in store.list(namespaces):
        name = ns["metadata"]["name"]
        if _created(ns) < fresh:
            continue
        contents = [age_of(o) for rt in cluster.types() if rt.namespaced for o in store.list(rt, name)]
        oldest = min([c for c in contents if c < fresh], default=born if name in _SYSTEM else time.time())
        restamp(namespaces, ns, born if name in _SYSTEM else oldest - 60)
    for rt in cluster.types():
        if not rt.namespaced or rt.kind == "Event":
            continue
        for obj in store.list(rt):
            if _created(obj) >= fresh and obj["metadata"]["uid"] not in new_age:
                home = store.find(namespaces, "", obj["metadata"]["namespace"])
                restamp(rt, obj, age_of(home) + 1 if home else born)
    _resync_pods(cluster)
    ages = {
        o["metadata"]["uid"]: age_of(o)
        for rt in cluster.types()
        if rt.kind != "Event"
        for o in store.list(rt)
    }
    _age_events(cluster, ages)


def _resync_pods(cluster: Cluster) -> None:
    """Container start times follow the pods' new ages (no events: nothing new happened)."""
    from sandbox.controllers.kubelet import sync_pod

    cluster.quiet = True
    try:
        for pod in cluster.store.list(resource("pods")):
            if pod["spec"].get("nodeName"):
                sync_pod(cluster, pod)
        cluster.settle()
    finally:
        cluster.quiet = False


def _age_events(cluster: Cluster, new_age: dict[str, float]) -> None:
    events = resource("events")
    seen: dict[str, int] = {}
    now = time.time()
    for event in cluster.store.list(events):
        uid = (event.get("involvedObject") or {}).get("uid", "")
        if uid not in new_age:
            continue
        index = seen[uid] = seen.get(uid, -1) + 1
        first = min(new_age[uid] + 1 + index, now)
        count = int(event.get("count") or 1)
        last = max(first, now - 60 * (1 + index % 4)) if count > 1 else first
        updated = {**event, "firstTimestamp": rfc3339(first), "lastTimestamp": rfc3339(last)}
        cluster.store.restamp(events, updated, rfc3339(first))
