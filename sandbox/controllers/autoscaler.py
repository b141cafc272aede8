"""HorizontalPodAutoscaler (autoscaling/v2, CPU utilisation): status from the simulated usage, and scaling.

desired = ceil(current × utilisation / target), within [minReplicas, maxReplicas], with upstream's
10 % tolerance; evaluated when the HPA changes and on every tick.
"""

from __future__ import annotations

import math
import time
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.conversion import cpu_target
from sandbox.quantity import parse_quantity
from sandbox.store import Change, now_rfc3339

__all__ = ["Autoscaler"]

_TOLERANCE = 0.1
_DOWN_WINDOW = 300
_UP_WINDOW = 0
clock = time.time
"""The autoscaler's notion of now (its stabilisation window); tests move it."""


def _utilisation(cluster: Cluster, namespace: str, selector: dict[str, str]) -> int | None:
    from sandbox.usage import container_usages  # the traces load on first use, not at start-up

    pods = {
        p["metadata"]["name"]: p
        for p in cluster.store.list(resource("pods"), namespace)
        if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
    }
    used = requested = 0.0
    for usage in container_usages(cluster):
        pod = pods.get(usage.pod) if usage.namespace == namespace else None
        if pod is None:
            continue
        for c in pod["spec"].get("containers") or []:
            if c["name"] == usage.container:
                request = ((c.get("resources") or {}).get("requests") or {}).get("cpu")
                if request:
                    used += usage.cpu(time.time())
                    requested += parse_quantity(request)
    return round(100 * used / requested) if requested else None


def _window(hpa: dict[str, Any], direction: str, default: int) -> int:
    rules = (hpa["spec"].get("behavior") or {}).get(direction) or {}
    value = rules.get("stabilizationWindowSeconds")
    return default if value is None else int(value)


class Autoscaler:
    """Scales Deployments as the HPA controller does: a recommendation every sync, scale-up limited to
    max(4 pods, 100 %) a step, and scale-down only to the highest recommendation of the stabilisation
    window (`behavior.scaleDown.stabilizationWindowSeconds`, 300 s by default), so a brief dip in load
    does not remove pods."""

    def __init__(self) -> None:
        self.recommendations: dict[str, list[tuple[float, int]]] = {}

    def _stabilise(self, hpa: dict[str, Any], current: int, raw: int) -> tuple[int, str]:
        now = clock()
        down, up = _window(hpa, "scaleDown", _DOWN_WINDOW), _window(hpa, "scaleUp", _UP_WINDOW)
        # a new HPA starts its history with the current size, as the HPA controller does
        history = self.recommendations.setdefault(hpa["metadata"]["uid"], [(now, current)])
        history.append((now, raw))
        history[:] = [(t, r) for t, r in history if now - t <= max(down, up)]
        up_floor = min((r for t, r in history if now - t < up), default=raw)
        down_ceiling = max((r for t, r in history if now - t < down), default=raw)
        if current < up_floor:
            return min(up_floor, max(current * 2, current + 4)), "ScaleUpLimit" if up_floor > max(
                current * 2, current + 4
            ) else ""
        if current > down_ceiling:
            return down_ceiling, ""
        if raw < current:
            return current, "ScaleDownStabilized"
        return current, ""

    def sync(self, cluster: Cluster, hpa: dict[str, Any]) -> None:
        ref = hpa["spec"].get("scaleTargetRef") or {}
        ns = hpa["metadata"]["namespace"]
        if ref.get("kind") != "Deployment":
            return
        deployments = resource("deployments", "apps")
        target = cluster.store.find(deployments, ns, ref.get("name", ""))
        if target is None:
            return
        current = int(target["spec"].get("replicas", 1))
        low, high = int(hpa["spec"].get("minReplicas", 1)), int(hpa["spec"].get("maxReplicas", current))
        wanted = cpu_target(hpa["spec"])
        selector = (target["spec"].get("selector") or {}).get("matchLabels") or {}
        utilisation = _utilisation(cluster, ns, selector) if wanted else None
        desired = current
        if wanted and utilisation is not None and abs(utilisation / wanted - 1) > _TOLERANCE:
            desired = math.ceil(current * utilisation / wanted)
        desired = min(max(desired, low), high)
        desired, held = self._stabilise(hpa, current, desired)
        if desired != current:
            cluster.store.update(deployments, {**target, "spec": {**target["spec"], "replicas": desired}})
            above = "above" if desired > current else "below"
            cluster.record_event(
                hpa,
                "Normal",
                "SuccessfulRescale",
                f"New size: {desired}; reason: cpu resource utilization (percentage of request) {above} target",
                "horizontal-pod-autoscaler",
            )
        status: dict[str, Any] = {"currentReplicas": current, "desiredReplicas": desired}
        if utilisation is not None:
            status["currentMetrics"] = [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": utilisation}},
                }
            ]
        old = hpa.get("status") or {}
        reason = "SucceededRescale" if desired != current else held or "ReadyForNewScale"
        old_reason = next(
            (c.get("reason") for c in old.get("conditions") or [] if c.get("type") == "AbleToScale"), None
        )
        if {k: old.get(k) for k in status} != status or old_reason != reason:
            if desired != current:
                status["lastScaleTime"] = now_rfc3339()
            elif old.get("lastScaleTime"):
                status["lastScaleTime"] = old["lastScaleTime"]
            messages = {
                "SucceededRescale": f"the HPA controller was able to update the target scale to {desired}",
                "ReadyForNewScale": "recommended size matches current size",
                "ScaleDownStabilized": "recent recommendations were higher than current one, applying the highest recent recommendation",
                "ScaleUpLimit": "the desired replica count is increasing faster than the maximum scale rate",
            }
            status["conditions"] = [
                {
                    "type": "AbleToScale",
                    "status": "True",
                    "reason": reason,
                    "message": messages[reason],
                    "lastTransitionTime": now_rfc3339(),
                }
            ]
            cluster.store.update(
                resource("horizontalpodautoscalers", "autoscaling"),
                {**hpa, "status": status},
                subresource="status",
            )

    def tick(self, cluster: Cluster) -> None:
        for hpa in cluster.store.list(resource("horizontalpodautoscalers", "autoscaling")):
            self.sync(cluster, hpa)

    def __call__(self, cluster: Cluster, change: Change) -> None:
        if change.resource.kind != "HorizontalPodAutoscaler" or change.type == "DELETED":
            return
        meta = change.obj["metadata"]
        current = cluster.store.find(change.resource, meta["namespace"], meta["name"])
        if current is change.obj and (change.old is None or change.old.get("spec") != current.get("spec")):
            self.sync(cluster, current)
