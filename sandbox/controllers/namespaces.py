"""Namespaces: a new one gets its `default` ServiceAccount; a deleted one is emptied, then removed."""

from __future__ import annotations

from sandbox.cluster import Cluster, resource
from sandbox.resources import RESOURCES
from sandbox.store import Change

__all__ = ["reconcile_namespaces"]

_ROOT_CA = "-----BEGIN CERTIFICATE-----\nsandbox-root-ca\n-----END CERTIFICATE-----\n"


def reconcile_namespaces(cluster: Cluster, change: Change) -> None:
    if change.resource.kind != "Namespace" or change.type == "DELETED":
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
    if ns.get("status", {}).get("phase") != "Terminating":
        return
    for rt in RESOURCES:
        if rt.namespaced and rt.persisted and rt.kind != "Event":
            for obj in cluster.store.list(rt, name):
                cluster.store.delete(rt, name, obj["metadata"]["name"])
    for obj in cluster.store.list(resource("events"), name):
        cluster.store.delete(resource("events"), name, obj["metadata"]["name"])
    cluster.store.delete(change.resource, "", name)
