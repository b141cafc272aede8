"""One read of the cluster for a triage: each kind listed once (per scope) and shared by every analyzer.

A kind the cluster does not serve (404) reads as empty; one the caller may not list (403) reads as empty
too and is named in `gaps`, so a triage says what it could not check instead of reporting "healthy".
"""

from __future__ import annotations

from typing import Any

from tools.kubernetes.access import KubeAccess, KubeError

__all__ = ["KINDS", "ClusterView", "labels_match", "pod_ready", "subject"]

KINDS: dict[str, tuple[str, bool]] = {
    "pods": ("/api/v1", True),
    "services": ("/api/v1", True),
    "endpoints": ("/api/v1", True),
    "events": ("/api/v1", True),
    "secrets": ("/api/v1", True),
    "persistentvolumeclaims": ("/api/v1", True),
    "persistentvolumes": ("/api/v1", False),
    "nodes": ("/api/v1", False),
    "deployments": ("/apis/apps/v1", True),
    "replicasets": ("/apis/apps/v1", True),
    "statefulsets": ("/apis/apps/v1", True),
    "jobs": ("/apis/batch/v1", True),
    "cronjobs": ("/apis/batch/v1", True),
    "horizontalpodautoscalers": ("/apis/autoscaling/v2", True),
    "poddisruptionbudgets": ("/apis/policy/v1", True),
    "ingresses": ("/apis/networking.k8s.io/v1", True),
    "ingressclasses": ("/apis/networking.k8s.io/v1", False),
    "networkpolicies": ("/apis/networking.k8s.io/v1", True),
    "storageclasses": ("/apis/storage.k8s.io/v1", False),
    "validatingwebhookconfigurations": ("/apis/admissionregistration.k8s.io/v1", False),
    "mutatingwebhookconfigurations": ("/apis/admissionregistration.k8s.io/v1", False),
}


def labels_match(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels; an empty selector matches all."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, values = e.get("key", ""), e.get("values") or []
        ok = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }.get(e.get("operator", ""), False)
        if not ok:
            return False
    return True


def pod_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class ClusterView:
    """Cached lists of one scope: a namespace, or the whole cluster (`namespace=""`)."""

    def __init__(self, access: KubeAccess, namespace: str = "") -> None:
        self.access = access
        self.namespace = namespace
        self.gaps: list[str] = []
        self._lists: dict[str, list[dict[str, Any]]] = {}

    def items(self, plural: str) -> list[dict[str, Any]]:
        if plural not in self._lists:
            base, namespaced = KINDS[plural]
            scope = f"/namespaces/{self.namespace}" if namespaced and self.namespace else ""
            try:
                items = self.access.request("GET", f"{base}{scope}/{plural}").get("items", [])
            except KubeError as exc:
                if exc.code not in (403, 404):
                    raise
                if exc.code == 403:
                    self.gaps.append(f"{plural}: forbidden ({exc.message[:120]})")
                items = []
            self._lists[plural] = items
        return self._lists[plural]

    def find(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        for obj in self.items(plural):
            meta = obj.get("metadata") or {}
            if meta.get("name") == name and meta.get("namespace", "") == namespace:
                return obj
        return None

    def in_namespace(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        return [o for o in self.items(plural) if (o.get("metadata") or {}).get("namespace") == namespace]

    def events_about(self, kind: str, namespace: str, name: str) -> list[dict[str, Any]]:
        """Events about one object, oldest first."""
        found = [
            e
            for e in self.items("events")
            if (e.get("involvedObject") or {}).get("name") == name
            and (e.get("involvedObject") or {}).get("kind") == kind
            and (e.get("metadata") or {}).get("namespace", "")
            in (namespace, "default" if not namespace else "")
        ]
        return sorted(found, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    def ready_endpoints(self, namespace: str, service: str) -> int:
        ep = self.find("endpoints", namespace, service) or {}
        return sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])

    def pods_selected(self, namespace: str, selector: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [
            p
            for p in self.in_namespace("pods", namespace)
            if labels_match(selector, (p.get("metadata") or {}).get("labels") or {})
        ]


def subject(kind: str, obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return (
        f"{kind} {meta['namespace']}/{meta['name']}"
        if meta.get("namespace")
        else f"{kind} {meta.get('name')}"
    )
