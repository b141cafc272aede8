"""The HTTP endpoints an emulated container serves (health paths, `/metrics`), and how a name reaches them.

`reach(cluster, pod, host, port)` resolves what a process in `pod` would connect to (a Service by
DNS name or cluster IP, a pod IP, `localhost`) through the Service's ready endpoints, as kube-proxy
would. `serve(...)` answers one HTTP request as the container's app: its image's HTTP paths give
200, `/metrics` gives Prometheus text, anything else 404. Every request served appends an access
line to the container's log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.images import lookup_image

__all__ = ["HttpReply", "Target", "UnreachableError", "parse_requests", "reach", "serve", "served_ports"]

_NGINX_INDEX = (
    b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n"
    b"<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\n"
    b"working. Further configuration is required.</p>\n</body>\n</html>\n"
)
_NOT_HTTP = ("redis", "postgres", "mysql")


class UnreachableError(Exception):
    """The connection fails: `kind` is "unresolved" (no such name) or "refused" (nothing listens)."""

    def __init__(self, kind: str, message: str, address: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.address = address


@dataclass(frozen=True)
class Target:
    pod: dict[str, Any]
    container: dict[str, Any]
    port: int
    address: str


@dataclass
class HttpReply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {self.reason}", *(f"{k}: {v}" for k, v in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def served_ports(container: dict[str, Any]) -> tuple[int, ...]:
    image = lookup_image(str(container.get("image", "")))
    return image.ports or tuple(int(p.get("containerPort", 0)) for p in container.get("ports") or [])


def _running(pod: dict[str, Any], name: str) -> bool:
    return any(
        s.get("name") == name and "running" in (s.get("state") or {})
        for s in (pod.get("status") or {}).get("containerStatuses") or []
    )


def listener(pod: dict[str, Any], port: int, address: str) -> Target:
    """The running container of `pod` that listens on `port`; UnreachableError("refused") when none does."""
    for container in pod["spec"].get("containers") or []:
        if port in served_ports(container) and _running(pod, container["name"]):
            return Target(pod, container, port, address)
    raise UnreachableError("refused", f"dial tcp {address}:{port}: connect: connection refused", address)


def _service_target(cluster: Cluster, svc: dict[str, Any], port: int) -> Target:
    spec, ns = svc.get("spec") or {}, svc["metadata"]["namespace"]
    ip = spec.get("clusterIP", "")
    if not any(p.get("port") == port for p in spec.get("ports") or []):
        raise UnreachableError("refused", f"dial tcp {ip}:{port}: connect: connection refused", ip)
    svc_port = next(p for p in spec.get("ports") or [] if p.get("port") == port)
    endpoints = cluster.store.find(resource("endpoints"), ns, svc["metadata"]["name"]) or {}
    pods = resource("pods")
    for subset in endpoints.get("subsets") or []:
        named = {p.get("name", ""): p.get("port") for p in subset.get("ports") or []}
        target_port = named.get(svc_port.get("name", ""), svc_port.get("targetPort", port))
        for address in subset.get("addresses") or []:
            ref = address.get("targetRef") or {}
            pod = cluster.store.find(pods, ns, ref.get("name", ""))
            if pod is not None and isinstance(target_port, int):
                try:
                    return listener(pod, target_port, ip)
                except UnreachableError:
                    continue
    raise UnreachableError("refused", f"dial tcp {ip}:{port}: connect: connection refused", ip)


def reach(cluster: Cluster, pod: dict[str, Any], host: str, port: int) -> Target:
    """What a connection from `pod` to host:port reaches, as cluster DNS and kube-proxy route it."""
    ns = pod["metadata"]["namespace"]
    host = host.lower().rstrip(".")
    if host in ("localhost", "127.0.0.1", "::1", pod["metadata"]["name"]):
        return listener(pod, port, "127.0.0.1")
    services = resource("services")
    for svc in cluster.store.list(services):
        if (svc.get("spec") or {}).get("clusterIP") == host:
            return _service_target(cluster, svc, port)
    for other in cluster.store.list(resource("pods")):
        if (other.get("status") or {}).get("podIP") == host:
            return listener(other, port, host)
    parts = host.split(".")
    if parts[2:] in ([], ["svc"], ["svc", "cluster", "local"]) and len(parts) <= 5:
        found = cluster.store.find(services, parts[1] if len(parts) > 1 else ns, parts[0])
        if found is not None and (found.get("spec") or {}).get("type") != "ExternalName":
            return _service_target(cluster, found, port)
    raise UnreachableError("unresolved", f"lookup {host} on 10.96.0.10:53: no such host")


def _counters(cluster: Cluster) -> dict[tuple[str, str, str, int], int]:
    counters: dict[tuple[str, str, str, int], int] = cluster.extras.setdefault("http_requests", {})
    return counters


def _metrics(cluster: Cluster, target: Target) -> bytes:
    image = lookup_image(str(target.container.get("image", "")))
    uid, name = target.pod["metadata"]["uid"], target.container["name"]
    started = target.pod["metadata"].get("creationTimestamp", "")
    lines = [
        "# HELP http_requests_total HTTP requests served, by path and status code.",
        "# TYPE http_requests_total counter",
    ]
    for (u, c, path, code), count in sorted(_counters(cluster).items()):
        if (u, c) == (uid, name):
            lines.append(f'http_requests_total{{code="{code}",path="{path}"}} {count}')
    lines += [
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        f"process_resident_memory_bytes {int(image.memory_mib * 1024 * 1024)}",
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
        "# TYPE process_start_time_seconds gauge",
        f'process_start_time_seconds{{started="{started}"}} 1',
    ]
    return ("\n".join(lines) + "\n").encode()


def serve(
    cluster: Cluster, target: Target, method: str, path: str, client: str = "10.244.0.1", agent: str = "-"
) -> HttpReply:
    """One HTTP request to the container's app (UnreachableError when the port does not speak HTTP)."""
    image = lookup_image(str(target.container.get("image", "")))
    if image.repository in _NOT_HTTP:
        raise UnreachableError("empty", "empty reply from server", target.address)
    route = path.split("?", 1)[0] or "/"
    nginx = image.repository in ("nginx", "httpd")
    health = {"/healthz", "/ready", "/readyz", "/livez", "/actuator/health"}
    if route == "/metrics" and not nginx:
        status, body, kind = 200, _metrics(cluster, target), "text/plain; version=0.0.4"
    elif route in image.http_paths:
        if nginx:
            status, body, kind = 200, _NGINX_INDEX, "text/html"
        elif route == "/actuator/health":
            status, body, kind = 200, b'{"status":"UP"}', "application/json"
        else:
            status, body, kind = 200, b"ok\n" if route in health else b'{"status":"ok"}\n', "text/plain"
    else:
        status, kind = 404, "text/html" if nginx else "text/plain; charset=utf-8"
        body = b"<html><body><h1>404 Not Found</h1></body></html>\n" if nginx else b"404 page not found\n"
    reason = {200: "OK", 404: "Not Found"}[status]
    key = (target.pod["metadata"]["uid"], target.container["name"], route, status)
    _counters(cluster)[key] = _counters(cluster).get(key, 0) + 1
    now = time.time()
    if nginx:
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
        line = f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {len(body)} "-" "{agent}" "-"'
    else:
        line = f"{method} {path} {status} 0.4ms"
    cluster.logs.append((target.pod["metadata"]["uid"], target.container["name"]), line, now)
    headers = [("Content-Type", kind), ("Content-Length", str(len(body)))]
    if nginx:
        headers.insert(0, ("Server", "nginx/1.27.3"))
    return HttpReply(status, reason, headers, b"" if method == "HEAD" else body)


def parse_requests(buffer: bytes) -> tuple[list[tuple[str, str, dict[str, str]]], bytes]:
    """Whole HTTP/1.x requests at the front of `buffer` (method, path, headers) and what is left over."""
    out = []
    while b"\r\n\r\n" in buffer:
        head, rest = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if len(rest) < length:
            break
        buffer = rest[length:]
        if len(parts) >= 2:
            out.append((parts[0], parts[1], headers))
    return out, buffer
