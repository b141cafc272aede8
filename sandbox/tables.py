"""Server-side printing (`meta.k8s.io/v1` Table), which `kubectl get` asks for."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sandbox.resources import ResourceType
from sandbox.store import parse_rfc3339

__all__ = ["human_age", "pod_status_text", "to_table", "wants_table"]

Row = Callable[[dict[str, Any]], list[Any]]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def human_age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    seconds = int(time.time() - parse_rfc3339(timestamp))
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def pod_status_text(pod: dict[str, Any]) -> str:
    """The STATUS column of `kubectl get pods`: a waiting/terminated reason wins over the phase."""
    status = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    reason = status.get("reason") or status.get("phase", "Pending")
    inits = status.get("initContainerStatuses") or []
    for n, cs in enumerate(inits):
        state = cs.get("state") or {}
        terminated = state.get("terminated") or {}
        if terminated and terminated.get("exitCode") == 0:
            continue
        if (state.get("waiting") or {}).get("reason") not in (None, "", "PodInitializing"):
            return f"Init:{state['waiting']['reason']}"
        if terminated:
            return f"Init:{terminated.get('reason') or 'Error'}"
        return f"Init:{n}/{len(inits)}"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    return str(reason)


def _containers(obj: dict[str, Any]) -> tuple[str, str]:
    containers = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector(obj: dict[str, Any]) -> str:
    selector = (obj.get("spec") or {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin"}.get(expr.get("operator", ""), "")
        if op:
            parts.append(f"{expr.get('key')} {op} ({','.join(expr.get('values') or [])})")
        else:
            parts.append(("!" if expr.get("operator") == "DoesNotExist" else "") + str(expr.get("key")))
    return ",".join(parts) or "<none>"


def _pod(obj: dict[str, Any]) -> list[Any]:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount", 0)) for s in statuses)
    total = len(obj["spec"].get("containers") or [])
    return [
        f"{ready}/{total}",
        pod_status_text(obj),
        restarts,
        human_age(obj["metadata"].get("creationTimestamp")),
        (obj.get("status") or {}).get("podIP") or "<none>",
        obj["spec"].get("nodeName") or "<none>",
        (obj.get("status") or {}).get("nominatedNodeName") or "<none>",
        _readiness_gates(obj),
    ]


def _readiness_gates(obj: dict[str, Any]) -> str:
    gates = obj["spec"].get("readinessGates") or []
    if not gates:
        return "<none>"
    conditions = {c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []}
    return f"{sum(1 for g in gates if conditions.get(g.get('conditionType')) == 'True')}/{len(gates)}"


def _deployment(obj: dict[str, Any]) -> list[Any]:
    s = obj.get("status") or {}
    return [
        f"{s.get('readyReplicas', 0)}/{obj['spec'].get('replicas', 1)}",
        s.get("updatedReplicas", 0),
        s.get("availableReplicas", 0),
        human_age(obj["metadata"].get("creationTimestamp")),
        *_containers(obj),
        _selector(obj),
    ]


def _replicaset(obj: dict[str, Any]) -> list[Any]:
    s = obj.get("status") or {}
    return [
        obj["spec"].get("replicas", 1),
        s.get("replicas", 0),
        s.get("readyReplicas", 0),
        human_age(obj["metadata"].get("creationTimestamp")),
        *_containers(obj),
        _selector(obj),
    ]


def _service(obj: dict[str, Any]) -> list[Any]:
    spec = obj.get("spec") or {}
    ports = (
        ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []) or "<none>"
    )
    return [
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", "<none>"),
        "<none>",
        ports,
        human_age(obj["metadata"].get("creationTimestamp")),
        ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>",
    ]


def _node(obj: dict[str, Any]) -> list[Any]:
    conditions = {c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []}
    status = "Ready" if conditions.get("Ready") == "True" else "NotReady"
    if (obj.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = obj["metadata"].get("labels") or {}
    roles = (
        ",".join(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")) or "<none>"
    )
    info = (obj.get("status") or {}).get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in (obj.get("status") or {}).get("addresses") or []}
    return [
        status,
        roles,
        human_age(obj["metadata"].get("creationTimestamp")),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event(obj: dict[str, Any]) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    return [
        human_age(obj.get("lastTimestamp")),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        obj.get("message", ""),
    ]


def _namespace(obj: dict[str, Any]) -> list[Any]:
    return [
        (obj.get("status") or {}).get("phase", "Active"),
        human_age(obj["metadata"].get("creationTimestamp")),
    ]


def _hpa(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    target = next(
        (
            m["resource"].get("target", {}).get("averageUtilization")
            for m in spec.get("metrics") or []
            if m.get("type") == "Resource"
        ),
        None,
    )
    current = next(
        (
            m["resource"].get("current", {}).get("averageUtilization")
            for m in status.get("currentMetrics") or []
            if m.get("type") == "Resource"
        ),
        None,
    )
    shown = (
        f"cpu: {current if current is not None else '<unknown>'}%/{target}%"
        if target is not None
        else "<none>"
    )
    return [
        f"{ref.get('kind')}/{ref.get('name')}",
        shown,
        spec.get("minReplicas", 1),
        spec.get("maxReplicas"),
        status.get("currentReplicas", 0),
        human_age(obj["metadata"].get("creationTimestamp")),
    ]


def _created(obj: dict[str, Any]) -> str:
    return human_age(obj["metadata"].get("creationTimestamp"))


def _configmap(obj: dict[str, Any]) -> list[Any]:
    return [len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), _created(obj)]


def _secret(obj: dict[str, Any]) -> list[Any]:
    return [obj.get("type", "Opaque"), len(obj.get("data") or {}), _created(obj)]


def _claim(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    modes = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return [
        status.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", ""),
        ",".join(modes.get(m, m) for m in status.get("accessModes") or []),
        spec.get("storageClassName", ""),
        _created(obj),
    ]


def _statefulset(obj: dict[str, Any]) -> list[Any]:
    return [
        f"{(obj.get('status') or {}).get('readyReplicas', 0)}/{obj['spec'].get('replicas', 1)}",
        _created(obj),
    ]


def _daemonset(obj: dict[str, Any]) -> list[Any]:
    s = obj.get("status") or {}
    return [
        s.get("desiredNumberScheduled", 0),
        s.get("currentNumberScheduled", 0),
        s.get("numberReady", 0),
        s.get("updatedNumberScheduled", 0),
        s.get("numberAvailable", 0),
        _created(obj),
    ]


def _job(obj: dict[str, Any]) -> list[Any]:
    s = obj.get("status") or {}
    return [f"{s.get('succeeded', 0)}/{obj['spec'].get('completions', 1)}", _created(obj)]


def _endpoints(obj: dict[str, Any]) -> list[Any]:
    shown = [
        f"{a['ip']}:{p.get('port')}"
        for sub in obj.get("subsets") or []
        for a in sub.get("addresses") or []
        for p in sub.get("ports") or [{}]
    ]
    text = ",".join(shown[:3]) + (f" + {len(shown) - 3} more..." if len(shown) > 3 else "")
    return [text or "<none>", _created(obj)]


def _age(obj: dict[str, Any]) -> list[Any]:
    return [human_age(obj["metadata"].get("creationTimestamp"))]


_COLUMNS: dict[str, tuple[list[str], Row, list[str]]] = {
    "Pod": (
        ["Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
        _pod,
        ["IP", "Node", "Nominated Node", "Readiness Gates"],
    ),
    "Deployment": (
        ["Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"],
        _deployment,
        ["Containers", "Images", "Selector"],
    ),
    "ReplicaSet": (
        ["Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"],
        _replicaset,
        ["Containers", "Images", "Selector"],
    ),
    "Service": (["Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"], _service, ["Selector"]),
    "Node": (
        [
            "Status",
            "Roles",
            "Age",
            "Version",
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime",
        ],
        _node,
        ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
    ),
    "Event": (["Last Seen", "Type", "Reason", "Object", "Message"], _event, []),
    "Namespace": (["Status", "Age"], _namespace, []),
    "ConfigMap": (["Data", "Age"], _configmap, []),
    "Endpoints": (["Endpoints", "Age"], _endpoints, []),
    "Secret": (["Type", "Data", "Age"], _secret, []),
    "PersistentVolumeClaim": (
        ["Status", "Volume", "Capacity", "Access Modes", "StorageClass", "Age"],
        _claim,
        [],
    ),
    "StatefulSet": (["Ready", "Age"], _statefulset, []),
    "DaemonSet": (["Desired", "Current", "Ready", "Up-to-date", "Available", "Age"], _daemonset, []),
    "Job": (["Completions", "Age"], _job, []),
    "HorizontalPodAutoscaler": (["Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"], _hpa, []),
}


def _json_path(obj: Any, path: str) -> Any:
    """A simple JSONPath (`.spec.replicas`, `.status.conditions[0].type`) as additionalPrinterColumns use."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            obj = obj[index] if isinstance(obj, list) and index < len(obj) else None
        else:
            obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _custom_columns(rt: ResourceType) -> tuple[list[str], Row, list[str]]:
    def row(obj: dict[str, Any]) -> list[Any]:
        cells = []
        for _name, kind, path, _priority in rt.columns:
            value = _json_path(obj, path)
            if kind == "date" and isinstance(value, str):
                value = human_age(value)
            cells.append("<none>" if value is None else value)
        return cells

    return [c[0] for c in rt.columns], row, [c[0] for c in rt.columns if c[3] > 0]


def to_table(
    rt: ResourceType, items: list[dict[str, Any]], meta: dict[str, Any], include: str
) -> dict[str, Any]:
    names, row, wide = _custom_columns(rt) if rt.columns else _COLUMNS.get(rt.kind, (["Age"], _age, []))
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}]
    columns += [
        {"name": n, "type": "string", "format": "", "description": n, "priority": 1 if n in wide else 0}
        for n in names
    ]
    rows = []
    for obj in items:
        cells = [obj["metadata"]["name"], *row(obj)]
        if include == "Object":
            shown: dict[str, Any] = obj
        else:
            shown = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
        rows.append({"cells": cells, "object": shown})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": rows,
    }
