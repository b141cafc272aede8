"""Defaulting, as the apiserver fills in fields a client left out."""

from __future__ import annotations

import base64
import copy
from typing import Any

from sandbox.quantity import parse_quantity
from sandbox.resources import ResourceType

__all__ = ["apply_defaults", "pod_spec_defaults", "qos_class"]


def _container_defaults(container: dict[str, Any]) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    latest = ":" not in tag or tag.endswith(":latest")
    container.setdefault("imagePullPolicy", "Always" if latest and "@" not in image else "IfNotPresent")
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    limits = container["resources"].get("limits") or {}
    requests = container["resources"].get("requests")
    if limits and requests is None:
        container["resources"]["requests"] = dict(limits)
    elif limits:
        for key, value in limits.items():
            requests.setdefault(key, value)
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault(
                    "scheme", "HTTP"
                )  # `kubectl describe` then shows http-get http://:8080/
            probe.setdefault("timeoutSeconds", 1)
            probe.setdefault("periodSeconds", 10)
            probe.setdefault("successThreshold", 1)
            probe.setdefault("failureThreshold", 3)


def pod_spec_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    if "serviceAccount" in spec and "serviceAccountName" not in spec:
        spec["serviceAccountName"] = spec["serviceAccount"]
    spec.setdefault("serviceAccountName", "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    for c in spec.get("initContainers") or []:
        _container_defaults(c)
    for c in spec.get("containers") or []:
        _container_defaults(c)


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, from the containers' requests and limits."""
    containers = spec.get("containers") or []
    any_set, guaranteed = False, bool(containers)
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        any_set = any_set or bool(req) or bool(lim)
        for key in ("cpu", "memory"):
            if key not in lim or parse_quantity(req.get(key, lim[key])) != parse_quantity(lim[key]):
                guaranteed = False
    if guaranteed:
        return "Guaranteed"
    return "Burstable" if any_set else "BestEffort"


def _workload_defaults(spec: dict[str, Any]) -> None:
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec_defaults(template.setdefault("spec", {}))


def apply_defaults(rt: ResourceType, obj: dict[str, Any], creating: bool) -> dict[str, Any]:
    """A copy of `obj` with the defaults of its kind filled in."""
    obj = copy.deepcopy(obj)
    obj.setdefault("metadata", {})
    kind = rt.kind
    spec = obj.get("spec")
    if kind == "Pod" and isinstance(spec, dict):
        pod_spec_defaults(spec)
        if creating:
            obj.setdefault("status", {"phase": "Pending", "qosClass": qos_class(spec)})
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet") and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        if kind == "Deployment":
            spec.setdefault("progressDeadlineSeconds", 600)
            strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
            if strategy.get("type", "RollingUpdate") == "RollingUpdate":
                strategy["type"] = "RollingUpdate"
                rolling = strategy.setdefault("rollingUpdate", {})
                rolling.setdefault("maxSurge", "25%")
                rolling.setdefault("maxUnavailable", "25%")
        _workload_defaults(spec)
        if creating:
            # the required fields of the status types, as the apiserver returns them at creation
            obj.setdefault("status", {} if kind == "Deployment" else {"replicas": 0, "availableReplicas": 0})
    elif kind in ("DaemonSet", "CronJob") and isinstance(spec, dict):
        if kind == "CronJob":
            spec.setdefault("concurrencyPolicy", "Allow")
            spec.setdefault("suspend", False)
            spec.setdefault("successfulJobsHistoryLimit", 3)
            spec.setdefault("failedJobsHistoryLimit", 1)
            job_spec = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
            _workload_defaults(job_spec)
        else:
            _workload_defaults(spec)
            if creating:
                obj.setdefault(
                    "status",
                    {
                        "currentNumberScheduled": 0,
                        "desiredNumberScheduled": 0,
                        "numberMisscheduled": 0,
                        "numberReady": 0,
                    },
                )
    elif kind == "Job" and isinstance(spec, dict):
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        _workload_defaults(spec)
        if creating:
            obj.setdefault("status", {})
    elif kind == "HorizontalPodAutoscaler" and creating:
        obj.setdefault("status", {"currentReplicas": 0, "desiredReplicas": 0})
    elif kind == "Service":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
        obj.setdefault("status", {"loadBalancer": {}})
    elif kind == "Namespace":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")
        if creating:
            obj["status"] = {"phase": "Active"}
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    elif kind == "Node" and creating:
        obj.setdefault("spec", {})
    return obj
