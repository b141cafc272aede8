"""Endpoints: each Service's ready and not-ready pod addresses, recomputed when pods or the Service change."""

from __future__ import annotations

from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.controllers.workloads import pod_ready
from sandbox.store import Change

__all__ = ["reconcile_endpoints"]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _target_port(port: dict[str, Any], pods: list[dict[str, Any]]) -> int:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for pod in pods:
        for c in pod["spec"].get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == target:
                    return int(p.get("containerPort", 0))
    return int(port.get("port", 0))


def _sync(cluster: Cluster, svc: dict[str, Any]) -> None:
    ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
    selector = svc["spec"].get("selector") or {}
    if not selector:
        return  # a Service without a selector has hand-managed Endpoints
    pods = [
        p
        for p in cluster.store.list(resource("pods"), ns)
        if _matches(selector, p["metadata"].get("labels") or {})
        and p.get("status", {}).get("podIP")
        and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
    ]
    ready: list[dict[str, Any]] = []
    not_ready: list[dict[str, Any]] = []
    for pod in pods:
        address = {
            "ip": pod["status"]["podIP"],
            "nodeName": pod["spec"].get("nodeName"),
            "targetRef": {
                "kind": "Pod",
                "namespace": ns,
                "name": pod["metadata"]["name"],
                "uid": pod["metadata"]["uid"],
            },
        }
        (ready if pod_ready(pod) else not_ready).append(address)
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": ns, "labels": svc["metadata"].get("labels") or {}}
    }
    if pods:
        subset: dict[str, Any] = {
            "ports": [
                {
                    "name": p.get("name", ""),
                    "port": _target_port(p, pods),
                    "protocol": p.get("protocol", "TCP"),
                }
                for p in svc["spec"].get("ports") or []
            ]
        }
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        body["subsets"] = [subset]
    endpoints = resource("endpoints")
    current = cluster.store.find(endpoints, ns, name)
    if current is None:
        cluster.store.create(endpoints, body)
    elif current.get("subsets") != body.get("subsets"):
        fresh = {**current, "metadata": {**current["metadata"], "resourceVersion": ""}}
        fresh.pop("subsets", None)
        if "subsets" in body:
            fresh["subsets"] = body["subsets"]
        cluster.store.update(endpoints, fresh)


def reconcile_endpoints(cluster: Cluster, change: Change) -> None:
    kind, obj = change.resource.kind, change.obj
    if kind == "Service":
        ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        if change.type == "DELETED":
            if cluster.store.find(resource("endpoints"), ns, name) is not None:
                cluster.store.delete(resource("endpoints"), ns, name)
        elif cluster.store.find(change.resource, ns, name) is obj:
            _sync(cluster, obj)
    elif kind == "Pod":
        ns = obj["metadata"]["namespace"]
        labels = [
            obj["metadata"].get("labels") or {},
            ((change.old or {}).get("metadata") or {}).get("labels") or {},
        ]
        for svc in cluster.store.list(resource("services"), ns):
            selector = svc["spec"].get("selector") or {}
            if any(_matches(selector, lab) for lab in labels):
                _sync(cluster, svc)
