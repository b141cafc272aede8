"""StatefulSets (ordinal pods `<name>-0..N-1`, a PVC per claim template and pod, scale-down from the top)
and DaemonSets (one pod per node whose taints and selector allow it)."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.controllers.scheduler import tolerated
from sandbox.controllers.workloads import controller_ref, pod_ready
from sandbox.store import Change

__all__ = ["reconcile_sets"]


def _make_pod(
    cluster: Cluster,
    owner: dict[str, Any],
    name: str,
    extra_labels: dict[str, str],
    extra_spec: dict[str, Any],
) -> None:
    template = owner["spec"].get("template") or {}
    meta = copy.deepcopy(template.get("metadata") or {})
    meta.update(name=name, namespace=owner["metadata"]["namespace"], ownerReferences=[controller_ref(owner)])
    meta["labels"] = {**(meta.get("labels") or {}), **extra_labels}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {**copy.deepcopy(template.get("spec") or {}), **extra_spec},
    }
    component = f"{owner['kind'].lower()}-controller"
    try:
        cluster.create(resource("pods"), pod)
    except Exception as exc:  # reported on the owner, as upstream
        cluster.record_event(
            owner,
            "Warning",
            "FailedCreate",
            f"create Pod {name} in {owner['kind']} "
            f"{owner['metadata']['name']} failed error: {getattr(exc, 'message', exc)}",
            component,
        )
        return
    cluster.record_event(
        owner,
        "Normal",
        "SuccessfulCreate",
        f"create Pod {name} in {owner['kind']} {owner['metadata']['name']} successful",
        component,
    )


def _sync_statefulset(cluster: Cluster, sts: dict[str, Any]) -> None:
    ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
    pods_rt, claims_rt = resource("pods"), resource("persistentvolumeclaims")
    want = int(sts["spec"].get("replicas", 1))
    for ordinal in range(want):
        pod_name = f"{name}-{ordinal}"
        existing = cluster.store.find(pods_rt, ns, pod_name)
        if existing is not None:
            if (
                not pod_ready(existing)
                and sts["spec"].get("podManagementPolicy", "OrderedReady") == "OrderedReady"
            ):
                break  # the next ordinal waits until this one is Ready
            continue
        volumes = []
        for template in sts["spec"].get("volumeClaimTemplates") or []:
            claim = f"{template['metadata']['name']}-{pod_name}"
            if cluster.store.find(claims_rt, ns, claim) is None:
                body = {
                    "metadata": {
                        "name": claim,
                        "namespace": ns,
                        "labels": dict((sts["spec"].get("selector") or {}).get("matchLabels") or {}),
                    },
                    "spec": copy.deepcopy(template.get("spec") or {}),
                }
                cluster.create(claims_rt, body)
            volumes.append(
                {"name": template["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}}
            )
        spec_volumes = [
            v
            for v in (sts["spec"].get("template") or {}).get("spec", {}).get("volumes") or []
            if v["name"] not in {x["name"] for x in volumes}
        ]
        labels = {
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        _make_pod(
            cluster,
            sts,
            pod_name,
            labels,
            {
                "hostname": pod_name,
                "subdomain": sts["spec"].get("serviceName", ""),
                "volumes": spec_volumes + volumes,
            },
        )
        break  # OrderedReady: one pod at a time; the next change brings the next ordinal
    for pod in cluster.store.list(pods_rt, ns):
        refs = pod["metadata"].get("ownerReferences") or []
        if any(r.get("uid") == sts["metadata"]["uid"] for r in refs):
            ordinal = pod["metadata"]["name"].rsplit("-", 1)[-1]
            if ordinal.isdigit() and int(ordinal) >= want:
                cluster.store.delete(pods_rt, ns, pod["metadata"]["name"])  # claims stay, as upstream
    owned = [p for r, p in cluster.store.dependents(sts["metadata"]["uid"]) if r.kind == "Pod"]
    fresh = cluster.store.find(resource("statefulsets", "apps"), ns, name)
    if fresh is None:
        return
    ready = sum(1 for p in owned if pod_ready(p))
    status = {
        "observedGeneration": fresh["metadata"].get("generation", 1),
        "replicas": len(owned),
        "readyReplicas": ready,
        "currentReplicas": len(owned),
        "updatedReplicas": len(owned),
        "availableReplicas": ready,
    }
    if fresh.get("status") != status:
        cluster.store.update(
            resource("statefulsets", "apps"), {**fresh, "status": status}, subresource="status"
        )


def _sync_daemonset(cluster: Cluster, ds: dict[str, Any]) -> None:
    ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
    pod_spec = (ds["spec"].get("template") or {}).get("spec") or {}
    selector = pod_spec.get("nodeSelector") or {}
    owned = {
        p["spec"].get("nodeName"): p
        for r, p in cluster.store.dependents(ds["metadata"]["uid"])
        if r.kind == "Pod"
    }
    eligible = 0
    for node in cluster.store.list(resource("nodes")):
        node_name = node["metadata"]["name"]
        labels = node["metadata"].get("labels") or {}
        taints = [
            t
            for t in (node.get("spec") or {}).get("taints") or []
            if t.get("effect") in ("NoSchedule", "NoExecute")
        ]
        if any(labels.get(k) != v for k, v in selector.items()) or not all(
            tolerated(t, pod_spec.get("tolerations") or []) for t in taints
        ):
            continue
        eligible += 1
        if node_name not in owned:
            _make_pod(
                cluster,
                ds,
                f"{name}-{node['metadata']['uid'][:5]}",
                {"controller-revision-hash": "1"},
                {"nodeName": node_name},
            )
    fresh = cluster.store.find(resource("daemonsets", "apps"), ns, name)
    if fresh is None:
        return
    pods = [p for r, p in cluster.store.dependents(ds["metadata"]["uid"]) if r.kind == "Pod"]
    ready = sum(1 for p in pods if pod_ready(p))
    status = {
        "desiredNumberScheduled": eligible,
        "currentNumberScheduled": len(pods),
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": len(pods),
        "numberMisscheduled": 0,
        "observedGeneration": fresh["metadata"].get("generation", 1),
    }
    if fresh.get("status") != status:
        cluster.store.update(
            resource("daemonsets", "apps"), {**fresh, "status": status}, subresource="status"
        )


def _owner_of(cluster: Cluster, pod: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return cluster.store.find(
                resource(kind.lower() + "s", "apps"), pod["metadata"]["namespace"], ref.get("name", "")
            )
    return None


def reconcile_sets(cluster: Cluster, change: Change) -> None:
    kind, obj = change.resource.kind, change.obj
    if kind in ("StatefulSet", "DaemonSet") and change.type != "DELETED":
        current = cluster.store.find(change.resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
        if current is obj:
            (_sync_statefulset if kind == "StatefulSet" else _sync_daemonset)(cluster, current)
    elif kind == "Pod":
        for owner_kind, sync in (("StatefulSet", _sync_statefulset), ("DaemonSet", _sync_daemonset)):
            owner = _owner_of(cluster, obj, owner_kind)
            if owner is not None:
                sync(cluster, owner)
    elif kind == "Node":
        for ds in cluster.store.list(resource("daemonsets", "apps")):
            _sync_daemonset(cluster, ds)
