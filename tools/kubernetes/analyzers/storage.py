"""PersistentVolumeClaims (Pending: missing or unusable StorageClass, no class and no volume; Lost) and
StatefulSets (replicas not ready, and why the first missing one is stuck; a missing governing Service or
StorageClass)."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.findings import Finding
from tools.kubernetes.render import pod_status_text
from tools.kubernetes.view import ClusterView, pod_ready, subject

__all__ = ["pvc_findings", "statefulset_findings"]

_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def _mounted_by(view: ClusterView, ns: str, claim: str) -> list[dict[str, Any]]:
    return [
        p
        for p in view.in_namespace("pods", ns)
        if any(
            (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
            for v in (p.get("spec") or {}).get("volumes") or []
        )
    ]


def _pending_cause(view: ClusterView, pvc: dict[str, Any]) -> tuple[str, str]:
    """(cause, fix) of a Pending claim, from its class and the provisioner's last event."""
    spec = pvc.get("spec") or {}
    classes = {c["metadata"]["name"]: c for c in view.items("storageclasses")}
    known = ", ".join(sorted(classes)) or "none"
    name = spec.get("storageClassName")
    events = view.events_about("PersistentVolumeClaim", pvc["metadata"]["namespace"], pvc["metadata"]["name"])
    failed = next((e for e in reversed(events) if e.get("reason") == "ProvisioningFailed"), None)
    if name == "" or (
        name is None
        and not any(
            (c["metadata"].get("annotations") or {}).get(_DEFAULT_CLASS) == "true" for c in classes.values()
        )
    ):
        return (
            "no StorageClass: it asks for no dynamic provisioning (storageClassName "
            + ('""' if name == "" else "unset, and no class is the default")
            + ") and no PersistentVolume matches it",
            f"set spec.storageClassName to a class that exists ({known}) — a new claim, since the class cannot "
            "be changed — or create a PersistentVolume that matches it",
        )
    if name not in classes:
        return (
            f"StorageClass {name} does not exist, so nothing provisions a volume for it",
            f"recreate the claim with an existing StorageClass ({known}), or create StorageClass {name}",
        )
    if failed is not None:
        return (
            f"the provisioner of StorageClass {name} fails: {failed.get('message', '')}",
            "change what the provisioner rejects (often the access mode or size), or use another class",
        )
    mode = classes[name].get("volumeBindingMode") or "Immediate"
    if mode == "WaitForFirstConsumer":
        return (
            "it waits for a pod that uses it (volumeBindingMode WaitForFirstConsumer)",
            "start a pod that mounts it",
        )
    return (f"StorageClass {name} has not provisioned a volume yet", "check the provisioner's pods and logs")


def pvc_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    for pvc in view.items("persistentvolumeclaims"):
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        ns, who = meta["namespace"], subject("PersistentVolumeClaim", pvc)
        phase = (pvc.get("status") or {}).get("phase", "Pending")
        users = _mounted_by(view, ns, meta["name"])
        used_by = f"pods that mount it: {', '.join(p['metadata']['name'] + ' (' + pod_status_text(p) + ')' for p in users[:4]) or 'none'}"
        if phase == "Lost":
            out.append(
                Finding(
                    f"{who} is Lost: its PersistentVolume {spec.get('volumeName')} is gone",
                    "the volume the claim was bound to was deleted or disappeared; its data is not reachable",
                    ["status.phase = Lost", f"spec.volumeName = {spec.get('volumeName')}", used_by],
                    "restore the PersistentVolume (from a backup or snapshot) or recreate the claim",
                    "critical",
                    who,
                    affected=max(1, len(users)),
                )
            )
        elif phase == "Pending":
            cause, fix = _pending_cause(view, pvc)
            events = view.events_about("PersistentVolumeClaim", ns, meta["name"])
            last = events[-1] if events else None
            evidence = [
                "status.phase = Pending",
                f"spec.storageClassName = {spec.get('storageClassName') if 'storageClassName' in spec else '(unset)'}",
                f"spec.accessModes = {spec.get('accessModes')}",
            ]
            if last is not None:
                evidence.append(f'event {last.get("reason")}: "{last.get("message", "")}"')
            evidence.append(used_by)
            out.append(
                Finding(
                    f"{who} is Pending (not bound)" + (f"; {len(users)} pod(s) wait for it" if users else ""),
                    cause,
                    evidence,
                    fix,
                    "error",
                    who,
                    affected=max(1, len(users)),
                )
            )
    return out


def _sts_one(view: ClusterView, sts: dict[str, Any]) -> list[Finding]:
    ns, name, who = sts["metadata"]["namespace"], sts["metadata"]["name"], subject("StatefulSet", sts)
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    out: list[Finding] = []
    service = spec.get("serviceName")
    if service and view.find("services", ns, service) is None:
        out.append(
            Finding(
                f"{who} names governing Service {service}, which does not exist",
                "its pods get no stable DNS names (<pod>.<service>), which peers and clients of a StatefulSet rely on",
                [f"spec.serviceName = {service}", f"service {service}: not found in {ns}"],
                f"create the headless Service {service} (clusterIP: None) selecting the StatefulSet's pods",
                "warning",
                who,
            )
        )
    classes = {c["metadata"]["name"] for c in view.items("storageclasses")}
    for n, template in enumerate(spec.get("volumeClaimTemplates") or []):
        wanted = (template.get("spec") or {}).get("storageClassName")
        if wanted and wanted not in classes:
            out.append(
                Finding(
                    f"{who} claims volumes from StorageClass {wanted}, which does not exist",
                    f"every claim its pods need (<{template['metadata']['name']}>-{name}-N) stays Pending, so the pods cannot start",
                    [
                        f"spec.volumeClaimTemplates[{n}].spec.storageClassName = {wanted}",
                        f"StorageClasses: {', '.join(sorted(classes)) or 'none'}",
                    ],
                    "volumeClaimTemplates cannot be changed in place: recreate the StatefulSet with an existing "
                    "class (delete it with --cascade=orphan to keep the pods), or create the StorageClass",
                    "error",
                    who,
                    affected=int(spec.get("replicas", 1)),
                )
            )
    want, ready = int(spec.get("replicas", 1)), int(status.get("readyReplicas") or 0)
    if ready >= want:
        return out
    for ordinal in range(want):
        pod = view.find("pods", ns, f"{name}-{ordinal}")
        if pod is not None and pod_ready(pod):
            continue
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        state = "does not exist" if pod is None else f"is {pod_status_text(pod)}"
        reason = ""
        for c in ((pod or {}).get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False":
                reason = c.get("message", "")
        out.append(
            Finding(
                f"{who} has {ready} of {want} replicas ready",
                f"pod {name}-{ordinal} {state}"
                + (
                    f"; with OrderedReady the pods after it ({name}-{ordinal + 1}..{name}-{want - 1}) are not created"
                    if ordered and ordinal < want - 1
                    else ""
                ),
                [
                    f"spec.replicas = {want}, status.readyReplicas = {ready}",
                    f"pod {name}-{ordinal}: {state}"
                    + (f' — PodScheduled=False: "{reason}"' if reason else ""),
                    f"spec.podManagementPolicy = {spec.get('podManagementPolicy', 'OrderedReady')}",
                ],
                f"fix pod {name}-{ordinal} first (diagnose_pod {name}-{ordinal}); the rest follow in order",
                "error",
                who,
                affected=want - ready,
            )
        )
        break
    return out


def statefulset_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    for sts in view.items("statefulsets"):
        out += _sts_one(view, sts)
    return out
