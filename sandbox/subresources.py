"""Subresources: `scale` (autoscaling/v1 Scale), pod `log`, `binding` and `eviction`, namespace `finalize`."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NoReturn

from sandbox.cluster import Cluster, resource
from sandbox.errors import ApiError, bad_request, conflict, invalid, status_success
from sandbox.http import Request, Response, json_response
from sandbox.logs import LogLine, LogQuery, render
from sandbox.patch import apply_patch
from sandbox.resources import ResourceType
from sandbox.store import now_rfc3339

__all__ = ["handle", "log_query", "pod_log", "pod_log_lines", "scale_of"]


def _at(obj: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _set_at(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `obj` with the dotted `path` set (parents created)."""
    out = copy.deepcopy(obj)
    parts = [p for p in path.split(".") if p]
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def scale_of(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    if rt.scale_paths:  # a custom resource's scale subresource: its paths say where the numbers are
        spec_path, status_path, selector_path = rt.scale_paths
        scale: dict[str, Any] = {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": _at(obj, spec_path) or 0},
            "status": {"replicas": (_at(obj, status_path) if status_path else 0) or 0},
        }
        if selector_path and _at(obj, selector_path):
            scale["status"]["selector"] = _at(obj, selector_path)
        return scale
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
        wanted_obj = (
            _set_at(obj, rt.scale_paths[0], replicas)
            if rt.scale_paths
            else {**obj, "spec": {**obj["spec"], "replicas": replicas}}
        )
        updated = cluster.update(
            rt,
            wanted_obj,
            namespace=namespace,
            name=name,
            dry_run=req.dry_run,
        )
        return json_response(200, scale_of(rt, updated))


def _log_target(cluster: Cluster, namespace: str, name: str, container: str) -> tuple[dict[str, Any], str]:
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
    return pod, container


def pod_log_lines(
    cluster: Cluster, namespace: str, name: str, container: str = "", previous: bool = False
) -> tuple[tuple[str, str], list[LogLine]]:
    """The log the kubelet would return (key and lines), with the apiserver's errors for bad requests."""
    pod, container = _log_target(cluster, namespace, name, container)
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
    status = next((s for s in statuses if s["name"] == container), None)
    key = (pod["metadata"]["uid"], container)
    if previous:
        if not (status and status.get("lastState", {}).get("terminated")):
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        return key, cluster.logs.lines(key, previous=True)
    waiting = (status or {}).get("state", {}).get("waiting")
    if status is None or (waiting and not status.get("lastState", {}).get("terminated")):
        reason = (waiting or {}).get("reason", "ContainerCreating")
        detail = "trying and failing to pull image" if reason == "ImagePullBackOff" else "ContainerCreating"
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {detail}')
    return key, cluster.logs.lines(key)


def pod_log(
    cluster: Cluster,
    namespace: str,
    name: str,
    container: str = "",
    previous: bool = False,
    tail: int | None = None,
) -> str:
    """The log text the kubelet would return, with the apiserver's errors for bad requests."""
    _, lines = pod_log_lines(cluster, namespace, name, container, previous)
    return render(lines, LogQuery(tail=tail)).decode()


def _int_option(req: Request, name: str, minimum: int) -> int | None:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(f'invalid value "{raw}" for {name}: not an integer') from exc
    if value < minimum:
        words = "greater than 0" if minimum == 1 else f"greater than or equal to {minimum}"
        raise invalid(
            "PodLogOptions",
            "pods",
            "",
            [(name, "FieldValueInvalid", f"Invalid value: {value}: must be {words}")],
        )
    return value


def log_query(req: Request) -> LogQuery:
    """PodLogOptions from the query, validated as the apiserver does."""
    since_seconds = _int_option(req, "sinceSeconds", 1)
    since_time = req.query.get("sinceTime")
    if since_seconds is not None and since_time:
        raise invalid(
            "PodLogOptions",
            "pods",
            "",
            [
                (
                    "",
                    "FieldValueForbidden",
                    "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
                )
            ],
        )
    since = time.time() - since_seconds if since_seconds is not None else None
    if since_time:
        try:
            since = datetime.fromisoformat(since_time.replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise bad_request(f'invalid value "{since_time}" for sinceTime: not an RFC 3339 time') from exc
    return LogQuery(
        tail=_int_option(req, "tailLines", 0),
        since=since,
        timestamps=req.flag("timestamps"),
        limit_bytes=_int_option(req, "limitBytes", 1),
    )


def _log(cluster: Cluster, req: Request, namespace: str, name: str) -> Response:
    query = log_query(req)
    with cluster.store.lock:
        key, lines = pod_log_lines(
            cluster, namespace, name, req.query.get("container", ""), req.flag("previous")
        )
        pod = cluster.store.get(resource("pods"), namespace, name)
    first = render(lines, query)
    running = any(
        s["name"] == key[1] and "running" in (s.get("state") or {})
        for s in (pod.get("status") or {}).get("containerStatuses") or []
    )
    if not req.flag("follow") or req.flag("previous") or not running:
        return Response(200, first, "text/plain")

    def stream() -> Iterator[bytes]:
        budget = query.limit_bytes
        yield first
        if budget is not None:
            budget -= len(first)
            if budget <= 0:
                return
        for fresh in cluster.logs.follow(key, len(lines)):
            if not fresh:
                yield b""
                continue
            data = render(fresh, LogQuery(timestamps=query.timestamps, limit_bytes=budget))
            yield data
            if budget is not None:
                budget -= len(data)
                if budget <= 0:
                    return

    return Response(200, content_type="text/plain", stream=stream())


def _ephemeral(cluster: Cluster, rt: ResourceType, req: Request, namespace: str, name: str) -> Response:
    """Ephemeral containers (`kubectl debug`): only spec.ephemeralContainers may change, and only by
    adding containers, as upstream."""
    with cluster.store.lock:
        pod = cluster.store.get(rt, namespace, name)
        if req.method == "GET":
            return json_response(200, pod)
        body = req.json()
        if req.method == "PATCH":
            wanted = apply_patch(req.header("Content-Type"), copy.deepcopy(pod), body)
        elif req.method == "PUT":
            wanted = body or {}
        else:
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        before = {c.get("name"): c for c in pod["spec"].get("ephemeralContainers") or []}
        after = list((wanted.get("spec") or {}).get("ephemeralContainers") or [])
        names = [c.get("name") for c in after]
        changed = [
            n
            for n, c in before.items()
            if n not in names or next(a for a in after if a.get("name") == n) != c
        ]
        if changed:
            raise invalid(
                "Pod",
                "pods",
                name,
                [
                    (
                        "spec.ephemeralContainers",
                        "FieldValueForbidden",
                        "Forbidden: existing ephemeral containers may not be changed",
                    )
                ],
            )
        for container in after:
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("imagePullPolicy", "IfNotPresent")
        if req.dry_run:
            return json_response(200, {**pod, "spec": {**pod["spec"], "ephemeralContainers": after}})
        updated = cluster.store.update(rt, {**pod, "spec": {**pod["spec"], "ephemeralContainers": after}})
        cluster.settle()
        return json_response(200, cluster.store.find(rt, namespace, name) or updated)


def _evict(cluster: Cluster, rt: ResourceType, req: Request, namespace: str, name: str) -> None:
    """The eviction subresource as the apiserver's EvictionREST: a pod that is not running (or already
    going) is deleted; otherwise its PodDisruptionBudget must allow a disruption, which the eviction
    spends (status.disruptionsAllowed − 1, the pod in disruptedPods) before the pod is deleted. An
    unready pod may go while the budget is healthy (unhealthyPodEvictionPolicy IfHealthyBudget, or
    always with AlwaysAllow)."""
    from sandbox.controllers.disruption import pdbs_for_pod, sync_pdb
    from sandbox.controllers.workloads import pod_ready

    body = req.json() or {}
    options = body.get("deleteOptions") or {}
    dry_run = req.dry_run or "All" in (options.get("dryRun") or [])
    with cluster.store.lock:
        pod = cluster.store.get(rt, namespace, name)
        phase = (pod.get("status") or {}).get("phase")
        pdbs = (
            []
            if phase in ("Succeeded", "Failed", "Pending") or pod["metadata"].get("deletionTimestamp")
            else (pdbs_for_pod(cluster, pod))
        )
        if len(pdbs) > 1:
            raise ApiError(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            )
        if pdbs:
            pdb = sync_pdb(cluster, pdbs[0])
            status, spec = pdb.get("status") or {}, pdb["spec"]
            healthy_enough = status.get("currentHealthy", 0) >= status.get("desiredHealthy", 0) > 0
            policy = spec.get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
            if pod_ready(pod) or not (policy == "AlwaysAllow" or healthy_enough):
                _spend_disruption(cluster, pdb, name, dry_run)
        cluster.delete(rt, namespace, name, dry_run=dry_run)


def _spend_disruption(cluster: Cluster, pdb: dict[str, Any], pod: str, dry_run: bool) -> None:
    status = pdb.get("status") or {}
    budget = pdb["metadata"]["name"]
    if status.get("observedGeneration", 0) < pdb["metadata"].get("generation", 1):
        _too_many_requests(f"The disruption budget {budget} is still being processed by the server.")
    if status.get("disruptionsAllowed", 0) <= 0:
        needs, has = status.get("desiredHealthy", 0), status.get("currentHealthy", 0)
        _too_many_requests(
            f"The disruption budget {budget} needs {needs} healthy pods and has {has} currently"
        )
    if dry_run:
        return
    disrupted = {**(status.get("disruptedPods") or {}), pod: now_rfc3339()}
    spent = {**status, "disruptionsAllowed": status["disruptionsAllowed"] - 1, "disruptedPods": disrupted}
    cluster.store.update(cluster.rt_for(pdb), {**pdb, "status": spent}, subresource="status")


def _too_many_requests(cause: str) -> NoReturn:
    raise ApiError(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {"causes": [{"reason": "DisruptionBudget", "message": cause}]},
    )


def handle(cluster: Cluster, rt: ResourceType, req: Request, namespace: str, name: str, sub: str) -> Response:
    if sub == "scale":
        return _scale(cluster, rt, req, namespace, name)
    if sub == "log":
        return _log(cluster, req, namespace, name)
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
        _evict(cluster, rt, req, namespace, name)
        return json_response(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
    if sub == "ephemeralcontainers":
        return _ephemeral(cluster, rt, req, namespace, name)
    if sub == "finalize" and req.method == "PUT":
        return json_response(200, cluster.store.get(rt, "", name))
    raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
