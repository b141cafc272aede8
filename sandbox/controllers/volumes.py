"""Dynamic provisioning as kind's local-path provisioner does it: a PVC with an existing StorageClass
(the default one when it names none) gets a PersistentVolume and is Bound; otherwise it stays Pending
with a ProvisioningFailed event. Bound claims grow when their class allows expansion.
"""

from __future__ import annotations

from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.quantity import parse_quantity
from sandbox.store import Change

__all__ = ["DEFAULT_CLASS_ANNOTATION", "reconcile_volumes"]

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def _classes(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {
        sc["metadata"]["name"]: sc for sc in cluster.store.list(resource("storageclasses", "storage.k8s.io"))
    }


def _wait_for_volume(cluster: Cluster, pvc: dict[str, Any]) -> None:
    """No class to provision from: the claim stays Pending until a matching PV exists, as upstream says."""
    if (pvc.get("status") or {}).get("phase") != "Pending":
        pvc = cluster.store.update(
            resource("persistentvolumeclaims"), {**pvc, "status": {"phase": "Pending"}}, subresource="status"
        )
    cluster.record_event(
        pvc,
        "Normal",
        "FailedBinding",
        "no persistent volumes available for this claim and no storage class is set",
        "persistentvolume-controller",
    )


def _sync_claim(cluster: Cluster, pvc: dict[str, Any]) -> None:
    claims = resource("persistentvolumeclaims")
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    wanted = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    if status.get("phase") == "Bound":
        capacity = (status.get("capacity") or {}).get("storage", wanted)
        sc = _classes(cluster).get(spec.get("storageClassName", ""))
        if (
            parse_quantity(wanted) > parse_quantity(capacity)
            and sc is not None
            and sc.get("allowVolumeExpansion")
        ):
            cluster.store.update(
                claims, {**pvc, "status": {**status, "capacity": {"storage": wanted}}}, subresource="status"
            )
        return
    classes = _classes(cluster)
    name = spec.get("storageClassName")
    if name is None:
        name = next(
            (
                n
                for n, sc in classes.items()
                if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"
            ),
            None,
        )
        if name is None:
            _wait_for_volume(cluster, pvc)
            return
        pvc = cluster.store.update(claims, {**pvc, "spec": {**spec, "storageClassName": name}})
        spec = pvc["spec"]
    if name == "":  # an explicit "" turns dynamic provisioning off: only a matching PV can bind it
        _wait_for_volume(cluster, pvc)
        return
    sc = classes.get(name)
    if sc is None:
        message = f'storageclass.storage.k8s.io "{name}" not found'
    elif any(m != "ReadWriteOnce" for m in spec.get("accessModes") or []):
        message = (
            f'failed to provision volume with StorageClass "{name}": Only support ReadWriteOnce access mode'
        )
    else:
        volume = f"pvc-{pvc['metadata']['uid']}"
        pvs = resource("persistentvolumes")
        if cluster.store.find(pvs, "", volume) is None:
            cluster.store.create(
                pvs,
                {
                    "metadata": {
                        "name": volume,
                        "annotations": {"pv.kubernetes.io/provisioned-by": sc.get("provisioner", "")},
                    },
                    "spec": {
                        "capacity": {"storage": wanted},
                        "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                        "storageClassName": name,
                        "claimRef": {
                            "kind": "PersistentVolumeClaim",
                            "namespace": pvc["metadata"]["namespace"],
                            "name": pvc["metadata"]["name"],
                            "uid": pvc["metadata"]["uid"],
                        },
                        "hostPath": {"path": f"/var/local-path-provisioner/{volume}"},
                    },
                    "status": {"phase": "Bound"},
                },
            )
        bound = cluster.store.update(claims, {**pvc, "spec": {**spec, "volumeName": volume}})
        cluster.store.update(
            claims,
            {
                **bound,
                "status": {
                    "phase": "Bound",
                    "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                    "capacity": {"storage": wanted},
                },
            },
            subresource="status",
        )
        cluster.record_event(
            bound,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {volume}",
            sc.get("provisioner", "provisioner"),
        )
        return
    if status.get("phase") != "Pending":
        pvc = cluster.store.update(claims, {**pvc, "status": {"phase": "Pending"}}, subresource="status")
    cluster.record_event(pvc, "Warning", "ProvisioningFailed", message, "persistentvolume-controller")


def reconcile_volumes(cluster: Cluster, change: Change) -> None:
    kind = change.resource.kind
    if kind == "PersistentVolumeClaim" and change.type != "DELETED":
        meta = change.obj["metadata"]
        current = cluster.store.find(change.resource, meta["namespace"], meta["name"])
        if current is change.obj:
            _sync_claim(cluster, current)
    elif kind == "PersistentVolumeClaim":
        volume = (change.obj.get("spec") or {}).get("volumeName")
        pvs = resource("persistentvolumes")
        if volume and cluster.store.find(pvs, "", volume) is not None:
            cluster.store.delete(pvs, "", volume)
    elif kind == "StorageClass" and change.type != "DELETED":
        for pvc in cluster.store.list(resource("persistentvolumeclaims")):
            if (pvc.get("status") or {}).get("phase") != "Bound":
                _sync_claim(cluster, pvc)
