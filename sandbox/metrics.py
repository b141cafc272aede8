"""Usage as clusters expose it: the metrics API (`metrics.k8s.io`) and a Prometheus-compatible HTTP API
(`/api/v1/query`, `/api/v1/query_range`, labels, series) over cAdvisor and kube-state-metrics series.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sandbox.api import Api
from sandbox.cluster import Cluster, resource
from sandbox.errors import not_found
from sandbox.http import Request, Response, json_response
from sandbox.promql import query_instant, query_range
from sandbox.promql_parse import Matcher, PromQLError, parse
from sandbox.quantity import format_cpu, format_memory, parse_quantity
from sandbox.rbac import User
from sandbox.store import rfc3339
from sandbox.usage import ContainerUsage, container_usages

__all__ = ["SCRAPE_S", "build_series", "install_metrics"]

SCRAPE_S = 30.0
_KSM = {"job": "kube-state-metrics", "instance": "kube-state-metrics:8080"}


@dataclass
class _Series:
    labels: dict[str, str]
    value: Callable[[float], float]
    start: float
    now: float

    def points(self, lo: float, hi: float) -> list[tuple[float, float]]:
        lo, hi = max(lo, self.start - 1e-9), min(hi, self.now)
        first = math.floor(lo / SCRAPE_S) * SCRAPE_S + SCRAPE_S
        out = []
        t = first
        while t <= hi + 1e-9:
            out.append((t, self.value(t)))
            t += SCRAPE_S
        return out


def _const(value: float) -> Callable[[float], float]:
    return lambda _t: value


def _cadvisor(u: ContainerUsage, now: float) -> list[_Series]:
    base = {
        "namespace": u.namespace,
        "pod": u.pod,
        "container": u.container,
        "node": u.node,
        "instance": u.node,
        "job": "kubelet",
        "metrics_path": "/metrics/cadvisor",
        "image": u.image,
    }
    return [
        _Series({"__name__": "container_cpu_usage_seconds_total", **base}, u.cpu_seconds, u.start, now),
        _Series({"__name__": "container_memory_working_set_bytes", **base}, u.memory, u.start, now),
    ]


def _pod_series(cluster: Cluster, pod: dict[str, Any], start: float, now: float) -> list[_Series]:
    meta, spec = pod["metadata"], pod["spec"]
    ns, name, node = meta["namespace"], meta["name"], spec.get("nodeName", "")
    out = []
    for ref in meta.get("ownerReferences") or []:
        out.append(
            _Series(
                {
                    "__name__": "kube_pod_owner",
                    **_KSM,
                    "namespace": ns,
                    "pod": name,
                    "owner_kind": ref.get("kind", ""),
                    "owner_name": ref.get("name", ""),
                    "owner_is_controller": str(bool(ref.get("controller"))).lower(),
                },
                _const(1.0),
                start,
                now,
            )
        )
    statuses = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    for c in spec.get("containers") or []:
        base = {**_KSM, "namespace": ns, "pod": name, "container": c["name"], "node": node}
        res = c.get("resources") or {}
        for metric, section in (
            ("kube_pod_container_resource_requests", "requests"),
            ("kube_pod_container_resource_limits", "limits"),
        ):
            for key, value in (res.get(section) or {}).items():
                unit = "core" if key == "cpu" else "byte"
                out.append(
                    _Series(
                        {"__name__": metric, **base, "resource": key, "unit": unit},
                        _const(parse_quantity(value)),
                        start,
                        now,
                    )
                )
        cs = statuses.get(c["name"]) or {}
        out.append(
            _Series(
                {"__name__": "kube_pod_container_status_restarts_total", **base},
                _const(float(cs.get("restartCount", 0))),
                start,
                now,
            )
        )
        last = ((cs.get("lastState") or {}).get("terminated") or {}).get("reason")
        if last:
            out.append(
                _Series(
                    {"__name__": "kube_pod_container_status_last_terminated_reason", **base, "reason": last},
                    _const(1.0),
                    start,
                    now,
                )
            )
    return out


def build_series(cluster: Cluster, now: float | None = None) -> list[_Series]:
    """Every series the sandbox's Prometheus serves, for the cluster as it is now."""
    now = now if now is not None else time.time()
    usages = container_usages(cluster)
    starts = {(u.namespace, u.pod): u.start for u in usages}
    series = [s for u in usages for s in _cadvisor(u, now)]
    with cluster.store.lock:
        pods = cluster.store.list(resource("pods"))
        sets = cluster.store.list(resource("replicasets", "apps"))
        nodes = cluster.store.list(resource("nodes"))
        deployments = cluster.store.list(resource("deployments", "apps"))
    for pod in pods:
        start = starts.get((pod["metadata"]["namespace"], pod["metadata"]["name"]), cluster.started)
        series += _pod_series(cluster, pod, start, now)
    for rs in sets:
        for ref in rs["metadata"].get("ownerReferences") or []:
            series.append(
                _Series(
                    {
                        "__name__": "kube_replicaset_owner",
                        **_KSM,
                        "namespace": rs["metadata"]["namespace"],
                        "replicaset": rs["metadata"]["name"],
                        "owner_kind": ref.get("kind", ""),
                        "owner_name": ref.get("name", ""),
                    },
                    _const(1.0),
                    cluster.started - 30 * 86400,
                    now,
                )
            )
    for dep in deployments:
        series.append(
            _Series(
                {
                    "__name__": "kube_deployment_spec_replicas",
                    **_KSM,
                    "namespace": dep["metadata"]["namespace"],
                    "deployment": dep["metadata"]["name"],
                },
                _const(float(dep["spec"].get("replicas", 1))),
                cluster.started,
                now,
            )
        )
    for node in nodes:
        for metric, section in (
            ("kube_node_status_allocatable", "allocatable"),
            ("kube_node_status_capacity", "capacity"),
        ):
            for key, value in ((node.get("status") or {}).get(section) or {}).items():
                unit = {"cpu": "core", "pods": "integer"}.get(key, "byte")
                series.append(
                    _Series(
                        {
                            "__name__": metric,
                            **_KSM,
                            "node": node["metadata"]["name"],
                            "resource": key,
                            "unit": unit,
                        },
                        _const(parse_quantity(value)),
                        cluster.started - 30 * 86400,
                        now,
                    )
                )
    series.append(
        _Series(
            {"__name__": "up", "job": "kubelet", "instance": "sandbox"},
            _const(1.0),
            cluster.started - 30 * 86400,
            now,
        )
    )
    return series


def _source(cluster: Cluster) -> Callable[[list[Matcher]], list[Any]]:
    cache: list[list[_Series]] = []

    def select(matchers: list[Matcher]) -> list[Any]:
        if not cache:
            cache.append(build_series(cluster))
        return [s for s in cache[0] if all(m.matches(s.labels) for m in matchers)]

    return select


def _params(req: Request) -> dict[str, str]:
    params = dict(req.query)
    if req.method == "POST" and req.body:
        params.update(parse_qsl(req.body.decode(errors="replace"), keep_blank_values=True))
    return params


def _time(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        from datetime import datetime

        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _prom_error(message: str, kind: str = "bad_data", code: int = 400) -> Response:
    return json_response(code, {"status": "error", "errorType": kind, "error": message})


def prometheus_handler(current: Callable[[], Cluster]) -> Callable[[Request], Response]:
    def handle(req: Request) -> Response:
        cluster = current()
        path = "/" + req.path.strip("/")
        path = path.removeprefix("/prometheus")
        params = _params(req)
        now = time.time()
        try:
            if path == "/api/v1/query":
                data = query_instant(
                    _source(cluster), params.get("query", ""), _time(params.get("time"), now)
                )
            elif path == "/api/v1/query_range":
                step = params.get("step", "")
                from sandbox.promql_parse import parse_duration

                data = query_range(
                    _source(cluster),
                    params.get("query", ""),
                    _time(params.get("start"), now - 3600),
                    _time(params.get("end"), now),
                    parse_duration(step) if step else 60.0,
                )
            elif path in ("/api/v1/labels", "/api/v1/series") or path.startswith("/api/v1/label/"):
                data = _metadata(cluster, path, req)
            elif path == "/api/v1/status/buildinfo":
                data = {
                    "version": "2.53.0-opsgraph-sandbox",
                    "revision": "sandbox",
                    "branch": "",
                    "goVersion": "go1.22",
                }
            else:
                return _prom_error(f"unknown endpoint {path}", "not_found", 404)
        except (PromQLError, ValueError) as exc:
            return _prom_error(str(exc))
        return json_response(200, {"status": "success", "data": data})

    return handle


def _metadata(cluster: Cluster, path: str, req: Request) -> Any:
    selectors = [
        v for k, v in parse_qsl(req.path.split("?", 1)[1] if "?" in req.path else "") if k == "match[]"
    ]
    selectors += [req.query["match[]"]] if "match[]" in req.query else []
    series = build_series(cluster)
    if selectors:
        chosen = []
        for text in selectors:
            node = parse(text)
            matchers = getattr(node, "matchers", [])
            chosen += [s for s in series if all(m.matches(s.labels) for m in matchers)]
        series = chosen
    if path == "/api/v1/series":
        return [s.labels for s in series]
    if path == "/api/v1/labels":
        return sorted({k for s in series for k in s.labels})
    name = path.split("/")[4]
    return sorted({s.labels[name] for s in series if name in s.labels})


def metrics_api_handler(
    current: Callable[[], Cluster],
) -> Callable[[Request, User, str, str, str, str], Response]:
    def handle(req: Request, user: User, plural: str, namespace: str, name: str, verb: str) -> Response:
        cluster = current()
        now = time.time()
        usages = container_usages(cluster)
        stamp = rfc3339(now)
        if plural == "pods":
            by_pod: dict[tuple[str, str], list[ContainerUsage]] = {}
            for u in usages:
                by_pod.setdefault((u.namespace, u.pod), []).append(u)
            items = []
            for (ns, pod), containers in sorted(by_pod.items()):
                if (namespace and ns != namespace) or (name and pod != name):
                    continue
                items.append(
                    {
                        "kind": "PodMetrics",
                        "apiVersion": "metrics.k8s.io/v1beta1",
                        "metadata": {"name": pod, "namespace": ns, "creationTimestamp": stamp},
                        "timestamp": stamp,
                        "window": "30s",
                        "containers": [
                            {
                                "name": u.container,
                                "usage": {
                                    "cpu": format_cpu(u.cpu(now)),
                                    "memory": format_memory(u.memory(now)),
                                },
                            }
                            for u in containers
                        ],
                    }
                )
            kind = "PodMetrics"
        else:
            items = []
            for node in cluster.store.list(resource("nodes")):
                node_name = node["metadata"]["name"]
                if name and node_name != name:
                    continue
                mine = [u for u in usages if u.node == node_name]
                cpu = 0.12 + sum(u.cpu(now) for u in mine)
                memory = 1.1 * 2**30 + sum(u.memory(now) for u in mine)
                items.append(
                    {
                        "kind": "NodeMetrics",
                        "apiVersion": "metrics.k8s.io/v1beta1",
                        "metadata": {
                            "name": node_name,
                            "creationTimestamp": stamp,
                            "labels": node["metadata"].get("labels") or {},
                        },
                        "timestamp": stamp,
                        "window": "20s",
                        "usage": {"cpu": format_cpu(cpu), "memory": format_memory(memory)},
                    }
                )
            kind = "NodeMetrics"
        if name:
            if not items:
                raise not_found(f"{plural}.metrics.k8s.io", name)
            return json_response(200, items[0])
        return Response(
            200,
            json.dumps(
                {
                    "kind": f"{kind}List",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {},
                    "items": items,
                }
            ).encode(),
        )

    return handle


def install_metrics(api: Api) -> None:
    """Serve the metrics API group and the Prometheus HTTP API (no authentication, as a plain Prometheus)."""
    handler = prometheus_handler(lambda: api.cluster)  # looked up per request: a reset swaps the cluster
    for prefix in (
        "/api/v1/query",
        "/api/v1/query_range",
        "/api/v1/labels",
        "/api/v1/label/",
        "/api/v1/series",
        "/api/v1/status/buildinfo",
        "/prometheus/api/v1/",
    ):
        api.public_routes[prefix] = handler
    api.group_routes["metrics.k8s.io"] = metrics_api_handler(lambda: api.cluster)
