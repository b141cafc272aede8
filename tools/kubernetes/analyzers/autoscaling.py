"""HorizontalPodAutoscaler: a target that does not exist, a resource metric it cannot compute (no request
for it), stuck at its maximum while the metric stays above target, and any condition that is False."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.findings import Finding
from tools.kubernetes.view import ClusterView, subject

__all__ = ["hpa_findings"]

_TARGETS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "ReplicaSet": "replicasets"}


def _resource_targets(spec: dict[str, Any]) -> list[tuple[str, int]]:
    """(resource, target utilisation %) of each Resource metric with a Utilization target."""
    out = []
    for m in spec.get("metrics") or []:
        res = m.get("resource") or {}
        target = res.get("target") or {}
        if m.get("type") == "Resource" and target.get("type") == "Utilization":
            out.append((res.get("name", "cpu"), int(target.get("averageUtilization", 0))))
    if not spec.get("metrics") and spec.get("targetCPUUtilizationPercentage"):
        out.append(("cpu", int(spec["targetCPUUtilizationPercentage"])))
    return out


def _current(status: dict[str, Any], resource: str) -> int | None:
    for m in status.get("currentMetrics") or []:
        res = m.get("resource") or {}
        if m.get("type") == "Resource" and res.get("name") == resource:
            value = (res.get("current") or {}).get("averageUtilization")
            return int(value) if value is not None else None
    return None


def _one(view: ClusterView, hpa: dict[str, Any]) -> list[Finding]:
    ns, who = hpa["metadata"]["namespace"], subject("HorizontalPodAutoscaler", hpa)
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    kind, name = ref.get("kind", ""), ref.get("name", "")
    plural = _TARGETS.get(kind)
    target = view.find(plural, ns, name) if plural else None
    if target is None:
        return [
            Finding(
                f"{who} scales {kind} {name}, which does not exist",
                f"its scaleTargetRef names {kind}/{name}, which is not in {ns}: nothing is scaled",
                [f"spec.scaleTargetRef = {kind}/{name}", f"{plural or kind} {name}: not found in {ns}"],
                "point spec.scaleTargetRef at the workload to scale (or delete the HPA)",
                "error",
                who,
            )
        ]
    out = []
    containers = ((target.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    for resource, wanted in _resource_targets(spec):
        missing = [
            c["name"]
            for c in containers
            if resource not in ((c.get("resources") or {}).get("requests") or {})
        ]
        if missing:
            false = [c for c in status.get("conditions") or [] if c.get("status") == "False"]
            out.append(
                Finding(
                    f"{who} cannot compute {resource} utilisation (missing metrics)",
                    f"utilisation is usage as a share of the {resource} request, and container(s) "
                    f"{', '.join(missing)} of {kind} {name} request no {resource}: the HPA cannot scale",
                    [
                        *(
                            f"{kind.lower()} {name}: container {c} has no resources.requests.{resource}"
                            for c in missing
                        ),
                        f"status.currentMetrics: no {resource} value",
                        *(
                            f"condition {c.get('type')}=False ({c.get('reason')}): {c.get('message', '')}"
                            for c in false
                        ),
                    ],
                    f"set resources.requests.{resource} on every container of {kind} {name}",
                    "error",
                    who,
                )
            )
            continue
        high = int(spec.get("maxReplicas", 0))
        replicas = max(int(status.get("currentReplicas") or 0), int(status.get("desiredReplicas") or 0))
        now = _current(status, resource)
        if high and replicas >= high and now is not None and now > wanted:
            out.append(
                Finding(
                    f"{who} is at its maximum of {high} replicas with {resource} at {now}% of request",
                    f"load is above the {wanted}% target even at maxReplicas, so the workload stays overloaded",
                    [
                        f"spec.maxReplicas = {high}, status.currentReplicas = {status.get('currentReplicas')}, "
                        f"status.desiredReplicas = {status.get('desiredReplicas')}",
                        f"status.currentMetrics {resource} averageUtilization = {now}% (target {wanted}%)",
                    ],
                    f"raise spec.maxReplicas (check node capacity first), or raise the {resource} request to "
                    "what the pods really use",
                    "warning",
                    who,
                    affected=high,
                )
            )
    return out


def hpa_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    for hpa in view.items("horizontalpodautoscalers"):
        found = _one(view, hpa)
        if not found:
            for c in (hpa.get("status") or {}).get("conditions") or []:
                if c.get("status") == "False" and c.get("type") in ("AbleToScale", "ScalingActive"):
                    who = subject("HorizontalPodAutoscaler", hpa)
                    found.append(
                        Finding(
                            f"{who}: condition {c.get('type')} is False",
                            f"{c.get('reason', '')}: {c.get('message', '')}",
                            [f"status.conditions {c.get('type')}=False ({c.get('reason', '')})"],
                            "fix what the condition's message names (metrics server, target, permissions)",
                            "warning",
                            who,
                        )
                    )
        out += found
    return out
