"""Subresources: `scale` (autoscaling/v1 Scale), pod `log`, `binding` and `eviction`, namespace `finalize`."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.errors import ApiError, bad_request, conflict, invalid, status_success
from sandbox.http import Request, Response, json_response
from sandbox.patch import apply_patch
from sandbox.resources import ResourceType

__all__ = ["handle", "pod_log", "scale_of"]


def scale_of(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    selector = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": obj["spec"].get("replicas", 1)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items())),
        },
    }


def _scale(cluster: Cluster, rt: ResourceType, req: Request, namespace: str, name: str) -> Response:
    with cluster.store.lock:
        obj = cluster.store.get(rt, namespace, name)
        current = scale_of(rt, obj)
        if req.method == "GET":
            return json_response(200, current)
        body = req.json()
        if req.method == "PATCH":
            wanted = apply_patch(req.header("Content-Type"), copy.deepcopy(current), body)
        elif req.method == "PUT":
            wanted = body or {}
        else:
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        rv = (wanted.get("metadata") or {}).get("resourceVersion")
        if req.method == "PUT" and rv and rv != obj["metadata"]["resourceVersion"]:
            raise conflict(rt.qualified, name)
        replicas = (wanted.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise invalid(
                "Scale",
                "scale.autoscaling",
                name,
                [
                    (
                        "spec.replicas",
                        "FieldValueInvalid",
                        f"Invalid value: {replicas}: must be greater than or equal to 0",
                    )
                ],
            )
        updated = cluster.update(
            rt,
            {**obj, "spec": {**obj["spec"], "replicas": replicas}},
            namespace=namespace,
            name=name,
            dry_run=req.dry_run,
        )
        return json_response(200, scale_of(rt, updated))


def pod_log(
    cluster: Cluster,
    namespace: str,
    name: str,
    container: str = "",
    previous: bool = False,
    tail: int | None = None,
) -> str:
    """The log text the kubelet would return, with the apiserver's errors for bad requests."""
    pod = cluster.store.get(resource("pods"), namespace, name)
    names = [c["name"] for c in pod["spec"].get("containers") or []]
    init_names = [c["name"] for c in pod["spec"].get("initContainers") or []]
    if not container:
        if len(names) != 1:
            raise bad_request(
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
            )
        container = names[0]
    if container not in names + init_names:
        raise bad_request(f"container {container} is not valid for pod {name}")
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
    status = next((s for s in statuses if s["name"] == container), None)
    current, before = cluster.logs.get((pod["metadata"]["uid"], container), ([], []))
    if previous:
        if not (status and status.get("lastState", {}).get("terminated")):
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        lines = before
    else:
        waiting = (status or {}).get("state", {}).get("waiting")
        if status is None or (waiting and not status.get("lastState", {}).get("terminated")):
            reason = (waiting or {}).get("reason", "ContainerCreating")
            detail = (
                "trying and failing to pull image" if reason == "ImagePullBackOff" else "ContainerCreating"
            )
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {detail}')
        lines = current
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    return "".join(line + "\n" for line in lines)


def handle(cluster: Cluster, rt: ResourceType, req: Request, namespace: str, name: str, sub: str) -> Response:
    if sub == "scale":
        return _scale(cluster, rt, req, namespace, name)
    if sub == "log":
        tail = req.query.get("tailLines")
        text = pod_log(
            cluster,
            namespace,
            name,
            req.query.get("container", ""),
            req.flag("previous"),
            int(tail) if tail else None,
        )
        return Response(200, text.encode(), "text/plain")
    if sub == "binding" and req.method == "POST":
        target = ((req.json() or {}).get("target") or {}).get("name")
        with cluster.store.lock:
            pod = cluster.store.get(rt, namespace, name)
            if pod["spec"].get("nodeName"):
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on pods/binding "{name}": '
                    f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"',
                )
            cluster.store.update(rt, {**pod, "spec": {**pod["spec"], "nodeName": target}})
            cluster.settle()
        return json_response(201, status_success("pods", name))
    if sub == "eviction" and req.method == "POST":
        cluster.delete(rt, namespace, name, dry_run=req.dry_run)
        return json_response(201, status_success("pods", name))
    if sub == "finalize" and req.method == "PUT":
        return json_response(200, cluster.store.get(rt, "", name))
    raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
