"""The disruption controller: PodDisruptionBudget status, which the eviction API reads.

As kube-controller-manager's disruption controller computes it: the pods the selector matches in the
PDB's namespace (an empty selector matches all, in policy/v1); `expectedPods` is the number of pods
for an integer `minAvailable`, else the scale of the pods' controllers (a Deployment's replicas for
pods of its ReplicaSets, a ReplicaSet's or StatefulSet's own); `desiredHealthy` is `minAvailable`
(a percentage of the expected pods, rounded up) or expected − `maxUnavailable`; `currentHealthy`
counts Ready pods that are not being deleted and not in `disruptedPods` (evictions of the last two
minutes); `disruptionsAllowed` = max(0, current − desired), 0 without expected pods.
"""

from __future__ import annotations

import math
import time
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.controllers.workloads import pod_ready
from sandbox.selectors import selector_from_spec
from sandbox.store import Change, parse_rfc3339, rfc3339

__all__ = ["pdbs_for_pod", "reconcile_disruption"]

clock = time.time
_COMPONENT = "controllermanager"
_DELETION_TIMEOUT = 120.0  # an evicted pod leaves disruptedPods after 2 minutes, deleted or not
_WATCHED = {"Pod", "PodDisruptionBudget", "Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"}


def _selects(pdb: dict[str, Any], pod: dict[str, Any]) -> bool:
    selector = pdb["spec"].get("selector")
    if selector is None:
        return False  # a nil selector selects nothing; an empty one ({}) selects every pod
    return not selector or selector_from_spec(selector)(pod["metadata"].get("labels") or {})


def pdbs_for_pod(cluster: Cluster, pod: dict[str, Any]) -> list[dict[str, Any]]:
    namespace = pod["metadata"].get("namespace", "")
    pdbs = cluster.store.list(resource("poddisruptionbudgets", "policy"), namespace=namespace)
    return [p for p in pdbs if _selects(p, pod)]


def _scaled(value: Any, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def _controller_scale(cluster: Cluster, pods: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """The summed scale of the pods' controllers, each counted once, and the pods without one."""
    scales: dict[str, int] = {}
    unmanaged = []
    for pod in pods:
        ref = next((r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
        if ref is None:
            unmanaged.append(pod["metadata"]["name"])
            continue
        owner = _owner(cluster, pod["metadata"]["namespace"], ref)
        if owner is not None and owner["kind"] == "ReplicaSet":
            parent_ref = next(
                (r for r in owner["metadata"].get("ownerReferences") or [] if r.get("controller")), None
            )
            parent = _owner(cluster, pod["metadata"]["namespace"], parent_ref) if parent_ref else None
            owner = parent if parent is not None and parent["kind"] == "Deployment" else owner
        if owner is not None:
            scales[owner["metadata"]["uid"]] = int((owner.get("spec") or {}).get("replicas", 1))
    return sum(scales.values()), unmanaged


def _owner(cluster: Cluster, namespace: str, ref: dict[str, Any]) -> dict[str, Any] | None:
    plural = {"ReplicaSet": "replicasets", "Deployment": "deployments", "StatefulSet": "statefulsets"}.get(
        ref.get("kind", "")
    )
    if plural is None:
        return None
    owner = cluster.store.find(resource(plural, "apps"), namespace, ref.get("name", ""))
    return owner if owner is not None and owner["metadata"]["uid"] == ref.get("uid") else None


def compute_status(cluster: Cluster, pdb: dict[str, Any]) -> dict[str, Any]:
    namespace = pdb["metadata"]["namespace"]
    pods = [p for p in cluster.store.list(resource("pods"), namespace=namespace) if _selects(pdb, p)]
    spec, old = pdb["spec"], pdb.get("status") or {}
    now = clock()
    disrupted = {
        name: stamp
        for name, stamp in (old.get("disruptedPods") or {}).items()
        if now - parse_rfc3339(stamp) < _DELETION_TIMEOUT
        and any(p["metadata"]["name"] == name and not p["metadata"].get("deletionTimestamp") for p in pods)
    }
    expected, desired = len(pods), 0
    if spec.get("maxUnavailable") is not None:
        expected, _unmanaged = _controller_scale(cluster, pods)
        desired = max(0, expected - _scaled(spec["maxUnavailable"], expected))
    elif spec.get("minAvailable") is not None:
        if isinstance(spec["minAvailable"], int):
            desired = spec["minAvailable"]
        else:
            expected, _unmanaged = _controller_scale(cluster, pods)
            desired = _scaled(spec["minAvailable"], expected)
    healthy = sum(
        1
        for p in pods
        if pod_ready(p)
        and not p["metadata"].get("deletionTimestamp")
        and p["metadata"]["name"] not in disrupted
    )
    allowed = healthy - desired if expected > 0 and healthy > desired else 0
    condition = {
        "type": "DisruptionAllowed",
        "status": "True" if allowed > 0 else "False",
        "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
        "message": "",
        "observedGeneration": pdb["metadata"].get("generation", 1),
    }
    previous = next((c for c in old.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None)
    same = previous is not None and previous.get("status") == condition["status"]
    condition["lastTransitionTime"] = previous["lastTransitionTime"] if same and previous else rfc3339(now)
    status: dict[str, Any] = {
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [condition],
    }
    if disrupted:
        status["disruptedPods"] = disrupted
    return status


def sync_pdb(cluster: Cluster, pdb: dict[str, Any]) -> dict[str, Any]:
    status = compute_status(cluster, pdb)
    if status == (pdb.get("status") or {}):
        return pdb
    if not status["expectedPods"] and not (pdb.get("status") or {}):
        cluster.record_event(pdb, "Normal", "NoPods", "No matching pods found", _COMPONENT)
    return cluster.store.update(
        resource("poddisruptionbudgets", "policy"), {**pdb, "status": status}, subresource="status"
    )


def _tick(cluster: Cluster) -> None:
    for pdb in cluster.store.list(resource("poddisruptionbudgets", "policy")):
        if (pdb.get("status") or {}).get("disruptedPods"):
            sync_pdb(cluster, pdb)


def reconcile_disruption(cluster: Cluster, change: Change) -> None:
    kind, obj = change.resource.kind, change.obj
    if kind not in _WATCHED:
        return
    if kind == "PodDisruptionBudget" and change.old is not None and change.old.get("spec") == obj.get("spec"):
        return
    scaled = ((change.old or {}).get("spec") or {}).get("replicas") != (obj.get("spec") or {}).get("replicas")
    if kind not in ("PodDisruptionBudget", "Pod") and change.old is not None and not scaled:
        return
    namespace = obj["metadata"].get("namespace", "")
    for pdb in cluster.store.list(resource("poddisruptionbudgets", "policy"), namespace=namespace):
        sync_pdb(cluster, pdb)


reconcile_disruption.tick = _tick  # type: ignore[attr-defined]
