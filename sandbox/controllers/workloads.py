"""Deployment → ReplicaSet → Pods (with rolling updates and revisions) and Job → Pods."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.store import Change, now_rfc3339, parse_rfc3339

__all__ = ["controller_ref", "pod_ready", "pod_template_hash", "reconcile_workloads"]

_REVISION = "deployment.kubernetes.io/revision"
_BACKOFF = 10.0
_MAX_BACKOFF = 360.0
clock = time.time
"""The job controller's notion of now (its retry back-off); tests move it."""
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def pod_template_hash(template: dict[str, Any]) -> str:
    digest = int(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest(), 16)
    out = ""
    for _ in range(10):
        digest, rem = divmod(digest, len(_NAME_CHARS))
        out += _NAME_CHARS[rem]
    return out


def controller_ref(owner: dict[str, Any]) -> dict[str, Any]:
    """The ownerReference a controller puts on what it creates for `owner`."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _owned(cluster: Cluster, owner: dict[str, Any], plural: str, group: str = "") -> list[dict[str, Any]]:
    rt = resource(plural, group)
    return [obj for r, obj in cluster.store.dependents(owner["metadata"]["uid"]) if r is rt]


def _alive(pod: dict[str, Any]) -> bool:
    return pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def pod_ready(pod: dict[str, Any]) -> bool:
    """Whether the pod's Ready condition is True."""
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _create_pod(
    cluster: Cluster, owner: dict[str, Any], template: dict[str, Any], extra_labels: dict[str, str]
) -> None:
    meta = copy.deepcopy(template.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), **extra_labels}
    meta["generateName"] = f"{owner['metadata']['name']}-"
    meta["namespace"] = owner["metadata"]["namespace"]
    meta["ownerReferences"] = [controller_ref(owner)]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    try:
        created = cluster.create(resource("pods"), pod)
    except Exception as exc:  # e.g. a missing ServiceAccount: the ReplicaSet reports it, as upstream
        message = getattr(exc, "message", str(exc))
        cluster.record_event(
            owner, "Warning", "FailedCreate", f"Error creating: {message}", "replicaset-controller"
        )
        return
    cluster.record_event(
        owner,
        "Normal",
        "SuccessfulCreate",
        f"Created pod: {created['metadata']['name']}",
        f"{owner['kind'].lower()}-controller",
    )


def _sync_replicaset(cluster: Cluster, rs: dict[str, Any]) -> None:
    pods = [p for p in _owned(cluster, rs, "pods") if _alive(p)]
    want = rs["spec"].get("replicas", 1)
    hash_label = rs["spec"]["template"].get("metadata", {}).get("labels") or {}
    if len(pods) < want:
        for _ in range(want - len(pods)):
            _create_pod(cluster, rs, rs["spec"]["template"], dict(hash_label))
    elif len(pods) > want:
        # delete not-ready pods first, then the youngest, as the ReplicaSet controller ranks them
        ranked = sorted(pods, key=lambda p: (pod_ready(p), p["metadata"]["creationTimestamp"]))
        for pod in ranked[: len(pods) - want]:
            cluster.store.delete(resource("pods"), pod["metadata"]["namespace"], pod["metadata"]["name"])
            cluster.record_event(
                rs,
                "Normal",
                "SuccessfulDelete",
                f"Deleted pod: {pod['metadata']['name']}",
                "replicaset-controller",
            )
    fresh = cluster.store.find(
        resource("replicasets", "apps"), rs["metadata"]["namespace"], rs["metadata"]["name"]
    )
    if fresh is None:
        return
    pods = [p for p in _owned(cluster, fresh, "pods") if _alive(p)]
    ready = sum(1 for p in pods if pod_ready(p))
    status = {
        "replicas": len(pods),
        "fullyLabeledReplicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": fresh["metadata"].get("generation", 1),
    }
    if status != fresh.get("status"):
        cluster.store.update(
            resource("replicasets", "apps"), {**fresh, "status": status}, subresource="status"
        )


def _resolve(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)


def _new_replicaset(
    cluster: Cluster, dep: dict[str, Any], template_hash: str, revision: int
) -> dict[str, Any]:
    template = copy.deepcopy(dep["spec"]["template"])
    labels = {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": template_hash}
    template.setdefault("metadata", {})["labels"] = labels
    selector = copy.deepcopy(dep["spec"]["selector"])
    selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{dep['metadata']['name']}-{template_hash}",
            "namespace": dep["metadata"]["namespace"],
            "labels": labels,
            "ownerReferences": [controller_ref(dep)],
            "annotations": {
                _REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(dep["spec"].get("replicas", 1)),
            },
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
    }
    return cluster.create(resource("replicasets", "apps"), rs)


def _scale(cluster: Cluster, dep: dict[str, Any], rs: dict[str, Any], replicas: int) -> None:
    old = rs["spec"].get("replicas", 0)
    if old == replicas:
        return
    cluster.store.update(
        resource("replicasets", "apps"), {**rs, "spec": {**rs["spec"], "replicas": replicas}}
    )
    verb = "up" if replicas > old else "down"
    cluster.record_event(
        dep,
        "Normal",
        "ScalingReplicaSet",
        f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
        "deployment-controller",
    )


def _sync_deployment(cluster: Cluster, dep: dict[str, Any]) -> None:
    spec = dep["spec"]
    template_hash = pod_template_hash(spec["template"])
    owned = _owned(cluster, dep, "replicasets", "apps")
    new = next(
        (rs for rs in owned if rs["metadata"].get("labels", {}).get("pod-template-hash") == template_hash),
        None,
    )
    olds = [rs for rs in owned if rs is not new]
    revision = max([int(rs["metadata"].get("annotations", {}).get(_REVISION, 0)) for rs in owned] or [0])
    if new is None:
        new = _new_replicaset(cluster, dep, template_hash, revision + 1)
    elif int(new["metadata"].get("annotations", {}).get(_REVISION, 0)) < revision:
        annotations = {**new["metadata"].get("annotations", {}), _REVISION: str(revision + 1)}
        new = cluster.store.update(
            resource("replicasets", "apps"),
            {**new, "metadata": {**new["metadata"], "annotations": annotations}},
        )
    replicas = spec.get("replicas", 1)
    if spec.get("paused"):
        pass
    elif spec.get("strategy", {}).get("type") == "Recreate":
        for rs in olds:
            _scale(cluster, dep, rs, 0)
        if not any(_owned(cluster, rs, "pods") for rs in olds):
            _scale(cluster, dep, new, replicas)
    else:
        rolling = spec.get("strategy", {}).get("rollingUpdate") or {}
        surge = _resolve(rolling.get("maxSurge", "25%"), replicas, True)
        unavailable = _resolve(rolling.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        total = sum(rs["spec"].get("replicas", 0) for rs in owned if rs is not new) + new["spec"].get(
            "replicas", 0
        )
        if not olds or new["spec"].get("replicas", 0) > replicas:
            _scale(cluster, dep, new, replicas)
        elif total < replicas + surge:
            _scale(
                cluster, dep, new, min(replicas, new["spec"].get("replicas", 0) + replicas + surge - total)
            )
        _scale_down_old(cluster, dep, replicas - unavailable)
    _cleanup_history(cluster, dep)
    _deployment_status(cluster, dep, template_hash)


def _scale_down_old(cluster: Cluster, dep: dict[str, Any], min_available: int) -> None:
    """The rolling update's scale-down step, as the deployment controller computes it."""
    template_hash = pod_template_hash(dep["spec"]["template"])
    owned = sorted(
        _owned(cluster, dep, "replicasets", "apps"), key=lambda rs: rs["metadata"]["creationTimestamp"]
    )
    new = next(
        (rs for rs in owned if rs["metadata"].get("labels", {}).get("pod-template-hash") == template_hash),
        None,
    )
    olds = [rs for rs in owned if rs is not new]

    def available(rs: dict[str, Any]) -> int:
        return int((rs.get("status") or {}).get("availableReplicas", 0))

    all_pods = sum(rs["spec"].get("replicas", 0) for rs in owned)
    new_unavailable = (new["spec"].get("replicas", 0) - available(new)) if new else 0
    budget = all_pods - min_available - new_unavailable
    if budget <= 0:
        return
    for rs in olds:  # first the old pods that are not available anyway
        unhealthy = rs["spec"].get("replicas", 0) - available(rs)
        cut = min(budget, max(0, unhealthy))
        if cut:
            _scale(cluster, dep, rs, rs["spec"]["replicas"] - cut)
            budget -= cut
    fresh = [
        cluster.store.find(
            resource("replicasets", "apps"), rs["metadata"]["namespace"], rs["metadata"]["name"]
        )
        or rs
        for rs in owned
    ]
    total_down = sum(available(rs) for rs in fresh) - min_available
    for rs in fresh:
        if (
            rs is new
            or rs["metadata"].get("labels", {}).get("pod-template-hash") == template_hash
            or total_down <= 0
        ):
            continue
        cut = min(rs["spec"].get("replicas", 0), total_down)
        if cut:
            _scale(cluster, dep, rs, rs["spec"]["replicas"] - cut)
            total_down -= cut


def _cleanup_history(cluster: Cluster, dep: dict[str, Any]) -> None:
    limit = dep["spec"].get("revisionHistoryLimit", 10)
    olds = [
        rs
        for rs in _owned(cluster, dep, "replicasets", "apps")
        if rs["spec"].get("replicas", 0) == 0
        and not _owned(cluster, rs, "pods")
        and rs["metadata"].get("labels", {}).get("pod-template-hash")
        != pod_template_hash(dep["spec"]["template"])
    ]
    olds.sort(key=lambda rs: int(rs["metadata"].get("annotations", {}).get(_REVISION, 0)))
    for rs in olds[: max(0, len(olds) - limit)]:
        cluster.store.delete(
            resource("replicasets", "apps"), rs["metadata"]["namespace"], rs["metadata"]["name"]
        )


def _progressing(
    condition: Any, previous: dict[str, Any], done: bool, rs_name: str, deadline_s: int
) -> dict[str, Any]:
    """Progressing=True while the rollout moves; False (ProgressDeadlineExceeded) once it has not for the deadline."""
    if done:
        return dict(
            condition(
                "Progressing",
                True,
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
        )
    stalled_since = previous.get("lastUpdateTime")
    if previous.get("reason") == "ProgressDeadlineExceeded" or (
        previous.get("reason") == "ReplicaSetUpdated"
        and stalled_since
        and time.time() - parse_rfc3339(stalled_since) > deadline_s
    ):
        return dict(
            condition(
                "Progressing",
                False,
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            )
        )
    return dict(
        condition("Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    )


def _deployment_status(cluster: Cluster, dep: dict[str, Any], template_hash: str) -> None:
    dep = (
        cluster.store.find(
            resource("deployments", "apps"), dep["metadata"]["namespace"], dep["metadata"]["name"]
        )
        or dep
    )
    owned = _owned(cluster, dep, "replicasets", "apps")
    pods = [p for rs in owned for p in _owned(cluster, rs, "pods") if _alive(p)]
    new_pods = [p for p in pods if p["metadata"].get("labels", {}).get("pod-template-hash") == template_hash]
    ready = sum(1 for p in pods if pod_ready(p))
    replicas = dep["spec"].get("replicas", 1)
    unavailable = max(0, replicas - ready)
    old_status = dep.get("status") or {}
    old_conditions = {c["type"]: c for c in old_status.get("conditions") or []}
    now = now_rfc3339()

    def condition(kind: str, ok: bool, reason: str, message: str) -> dict[str, Any]:
        previous = old_conditions.get(kind) or {}
        changed = previous.get("status") != ("True" if ok else "False") or previous.get("reason") != reason
        return {
            "type": kind,
            "status": "True" if ok else "False",
            "reason": reason,
            "message": message,
            "lastUpdateTime": now if changed else previous.get("lastUpdateTime", now),
            "lastTransitionTime": now if changed else previous.get("lastTransitionTime", now),
        }

    rs_name = f"{dep['metadata']['name']}-{template_hash}"
    done = len(new_pods) == replicas == len(pods) and ready >= replicas
    status: dict[str, Any] = {
        "observedGeneration": dep["metadata"].get("generation", 1),
        "replicas": len(pods),
        "updatedReplicas": len(new_pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "conditions": [
            condition(
                "Available",
                unavailable
                <= _resolve(
                    (dep["spec"].get("strategy", {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%"),
                    replicas,
                    False,
                )
                or ready >= replicas,
                "MinimumReplicasAvailable" if ready >= replicas else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if ready >= replicas
                else "Deployment does not have minimum availability.",
            ),
            _progressing(
                condition,
                old_conditions.get("Progressing") or {},
                done,
                rs_name,
                int(dep["spec"].get("progressDeadlineSeconds", 600)),
            ),
        ],
    }
    if unavailable:
        status["unavailableReplicas"] = unavailable
    for key in ("readyReplicas", "availableReplicas"):
        if not status[key]:
            del status[key]
    if status != old_status:
        cluster.store.update(resource("deployments", "apps"), {**dep, "status": status}, subresource="status")
    annotations = dep["metadata"].get("annotations") or {}
    new = next(
        (rs for rs in owned if rs["metadata"].get("labels", {}).get("pod-template-hash") == template_hash),
        None,
    )
    if new is not None and annotations.get(_REVISION) != new["metadata"]["annotations"].get(_REVISION):
        fresh = cluster.store.get(
            resource("deployments", "apps"), dep["metadata"]["namespace"], dep["metadata"]["name"]
        )
        cluster.store.update(
            resource("deployments", "apps"),
            {
                **fresh,
                "metadata": {
                    **fresh["metadata"],
                    "annotations": {**annotations, _REVISION: new["metadata"]["annotations"][_REVISION]},
                },
            },
        )


def _sync_job(cluster: Cluster, job: dict[str, Any]) -> None:
    pods = _owned(cluster, job, "pods")
    succeeded = sum(1 for p in pods if p.get("status", {}).get("phase") == "Succeeded")
    failed = sum(1 for p in pods if p.get("status", {}).get("phase") == "Failed")
    active = [p for p in pods if _alive(p)]
    spec = job["spec"]
    want = min(spec.get("parallelism", 1), spec.get("completions", 1) - succeeded)
    if failed and want > len(active) and not cluster.loading:
        # the job controller waits 10 s × 2^(failures − 1), at most 6 minutes, before it retries
        last = max(parse_rfc3339(p["metadata"]["creationTimestamp"]) for p in pods if _failed(p))
        if clock() < last + min(_BACKOFF * 2 ** (failed - 1), _MAX_BACKOFF):
            want = len(active)
    if failed <= spec.get("backoffLimit", 6) and not spec.get("suspend"):
        labels = {
            "batch.kubernetes.io/job-name": job["metadata"]["name"],
            "job-name": job["metadata"]["name"],
            "batch.kubernetes.io/controller-uid": job["metadata"]["uid"],
            "controller-uid": job["metadata"]["uid"],
        }
        for _ in range(max(0, want - len(active))):
            _create_pod(cluster, job, spec["template"], labels)
    fresh = cluster.store.find(
        resource("jobs", "batch"), job["metadata"]["namespace"], job["metadata"]["name"]
    )
    if fresh is None:
        return
    status: dict[str, Any] = {
        k: v for k, v in {"active": len(active), "succeeded": succeeded, "failed": failed}.items() if v
    }
    status["startTime"] = (fresh.get("status") or {}).get("startTime", now_rfc3339())
    if succeeded >= spec.get("completions", 1):
        status["conditions"] = [
            {
                "type": "Complete",
                "status": "True",
                "lastProbeTime": now_rfc3339(),
                "lastTransitionTime": now_rfc3339(),
            }
        ]
        status["completionTime"] = (fresh.get("status") or {}).get("completionTime", now_rfc3339())
    elif failed > spec.get("backoffLimit", 6):
        status["conditions"] = [
            {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
            }
        ]
    if _semantic(status) != _semantic(fresh.get("status") or {}):
        cluster.store.update(resource("jobs", "batch"), {**fresh, "status": status}, subresource="status")


def _failed(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Failed"


def _semantic(status: dict[str, Any]) -> Any:
    return {k: v for k, v in status.items() if k not in ("startTime", "completionTime", "conditions")} | {
        "conditions": [c.get("type") for c in status.get("conditions") or []]
    }


def _owner(
    cluster: Cluster, obj: dict[str, Any], kind: str, plural: str, group: str
) -> dict[str, Any] | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind and ref.get("controller"):
            owner = cluster.store.find(
                resource(plural, group), obj["metadata"]["namespace"], ref.get("name", "")
            )
            if owner is not None and owner["metadata"]["uid"] == ref.get("uid"):
                return owner
    return None


def _tick(cluster: Cluster) -> None:
    """Time passes: a rollout may now be past its progress deadline; a failed Job's back-off may be over."""
    for job in cluster.store.list(resource("jobs", "batch")):
        ended = {c.get("type") for c in (job.get("status") or {}).get("conditions") or []}
        if (job.get("status") or {}).get("failed") and not {"Complete", "Failed"} & ended:
            _sync_job(cluster, job)
    for dep in cluster.store.list(resource("deployments", "apps")):
        conditions = {c.get("type"): c for c in (dep.get("status") or {}).get("conditions") or []}
        if (conditions.get("Progressing") or {}).get("reason") == "ReplicaSetUpdated":
            _deployment_status(cluster, dep, pod_template_hash(dep["spec"]["template"]))


def reconcile_workloads(cluster: Cluster, change: Change) -> None:
    kind, obj = change.resource.kind, change.obj
    ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
    if kind == "Deployment" and change.type != "DELETED":
        current = cluster.store.find(change.resource, ns, name)
        if current is obj:
            _sync_deployment(cluster, current)
    elif kind == "ReplicaSet":
        current = cluster.store.find(change.resource, ns, name)
        if current is obj and change.type != "DELETED":
            _sync_replicaset(cluster, current)
        dep = _owner(cluster, obj, "Deployment", "deployments", "apps")
        if dep is not None and (
            change.old is None or change.old.get("status") != obj.get("status") or change.type == "DELETED"
        ):
            _sync_deployment(cluster, dep)
    elif kind == "Pod":
        rs = _owner(cluster, obj, "ReplicaSet", "replicasets", "apps")
        if rs is not None:
            _sync_replicaset(cluster, rs)
        job = _owner(cluster, obj, "Job", "jobs", "batch")
        if job is not None:
            _sync_job(cluster, job)
    elif kind == "Job" and change.type != "DELETED":
        current = cluster.store.find(change.resource, ns, name)
        if current is obj:
            _sync_job(cluster, current)


reconcile_workloads.tick = _tick  # type: ignore[attr-defined]
