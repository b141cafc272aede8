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


class Autoscaler:
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
        if {k: old.get(k) for k in status} != status:
            if desired != current:
                status["lastScaleTime"] = now_rfc3339()
            status["conditions"] = [
                {
                    "type": "AbleToScale",
                    "status": "True",
                    "reason": "SucceededRescale" if desired != current else "ReadyForNewScale",
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
