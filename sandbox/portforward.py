"""`port-forward` to a pod's emulated HTTP endpoints, over the three protocols clients speak.

- kubectl since 1.31: a WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io` carrying SPDY;
- kubectl before (or with the WebSocket turned off): `Upgrade: SPDY/3.1`, protocol `portforward.k8s.io`;
- the official Python client: a WebSocket (`v4.channel.k8s.io`) with two channels per port of the
  `ports` query (data 2i, error 2i+1), each opened by the port number in two little-endian bytes.

In SPDY, each local connection is a pair of streams (`streamtype: error|data`, `port`, `requestid`).
Bytes to a port are read as HTTP requests and answered by the container's app (`sandbox.webapp`);
a port nothing listens on gets the kubelet's error on the error stream.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

from sandbox import spdy
from sandbox.cluster import Cluster, resource
from sandbox.errors import ApiError, bad_request
from sandbox.http import Request, Response
from sandbox.webapp import Target, UnreachableError, listener, parse_requests, serve
from sandbox.websocket import WebSocket, offered_protocols, upgrade_response, wants_websocket

__all__ = ["handle"]

_PROTOCOL = "portforward.k8s.io"
_TUNNEL = f"SPDY/3.1+{_PROTOCOL}"
_CHANNELS = "v4.channel.k8s.io"


class _Connection:
    """One TCP connection to a container port: HTTP requests in, responses out."""

    def __init__(self, cluster: Cluster, target: Target) -> None:
        self.cluster = cluster
        self.target = target
        self.buffer = b""
        self.closed = False

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        requests, self.buffer = parse_requests(self.buffer)
        out = b""
        for method, path, headers in requests:
            try:
                reply = serve(
                    self.cluster, self.target, method, path, "127.0.0.1", headers.get("user-agent", "-")
                )
            except UnreachableError:
                return out  # not an HTTP port: the bytes go unanswered, as to a server that waits
            out += reply.head() + reply.body
            if headers.get("connection", "").lower() == "close":
                self.closed = True
                break
        return out


def _refused(pod: dict[str, Any], port: int) -> str:
    meta = pod["metadata"]
    return (
        f"error forwarding port {port} to pod {meta['name']}_{meta['namespace']}, uid : failed to connect to "
        f"localhost:{port} inside the pod's network namespace, IPv4: dial tcp4 127.0.0.1:{port}: connect: "
        "connection refused"
    )


def _connect(cluster: Cluster, pod: dict[str, Any], port: int) -> _Connection | str:
    """A connection to the port, or the kubelet's error message."""
    with cluster.store.lock:
        fresh = cluster.store.find(resource("pods"), pod["metadata"]["namespace"], pod["metadata"]["name"])
    try:
        return _Connection(cluster, listener(fresh or pod, port, "127.0.0.1"))
    except UnreachableError:
        return _refused(pod, port)


def _forward_pair(
    cluster: Cluster, pod: dict[str, Any], port: int, data: spdy.SpdyStream, error: spdy.SpdyStream
) -> None:
    conn = _connect(cluster, pod, port)
    if isinstance(conn, str):
        error.write(conn.encode())
    else:
        while not conn.closed and (chunk := data.inbox.get()) is not None:
            data.write(conn.feed(chunk))
    data.close()
    error.close()


def _spdy_session(cluster: Cluster, pod: dict[str, Any], session: spdy.Session) -> None:
    pairs: dict[str, dict[str, spdy.SpdyStream]] = {}

    def on_stream(stream: spdy.SpdyStream) -> None:
        pair = pairs.setdefault(stream.headers.get("requestid", "0"), {})
        pair[stream.headers.get("streamtype", "")] = stream
        if "data" in pair and "error" in pair:
            port = int(stream.headers.get("port") or 0)
            threading.Thread(
                target=_forward_pair,
                args=(cluster, pod, port, pair["data"], pair["error"]),
                daemon=True,
                name="sandbox-portforward",
            ).start()

    session.serve(on_stream)


def _channel_session(cluster: Cluster, pod: dict[str, Any], ports: list[int], ws: WebSocket) -> None:
    connections: dict[int, _Connection | str] = {}
    for i, port in enumerate(ports):
        prefix = struct.pack("<H", port)
        ws.send(bytes([2 * i]) + prefix)
        ws.send(bytes([2 * i + 1]) + prefix)
    while (message := ws.recv()) is not None:
        if not message or message[0] % 2 or message[0] // 2 >= len(ports):
            continue
        index = message[0] // 2
        if index not in connections:
            connections[index] = _connect(cluster, pod, ports[index])
            if isinstance(connections[index], str):
                ws.send(bytes([2 * index + 1]) + str(connections[index]).encode())
        conn = connections[index]
        if isinstance(conn, _Connection) and not conn.closed:
            reply = conn.feed(message[1:])
            if reply:
                ws.send(bytes([2 * index]) + reply)
    ws.close()


def _ports(req: Request) -> list[int]:
    ports = []
    for value in req.values("ports"):
        for part in value.split(","):
            if not part.strip().isdigit() or not 0 < int(part) < 65536:
                raise bad_request(f'invalid port "{part}"')
            ports.append(int(part))
    if not ports:
        raise bad_request('query parameter "port" is required')
    return ports


def handle(cluster: Cluster, req: Request, namespace: str, name: str) -> Response:
    with cluster.store.lock:
        pod = cluster.store.get(resource("pods"), namespace, name)
    if not pod["spec"].get("nodeName"):
        raise bad_request(f"pod {name} does not have a host assigned")
    if wants_websocket(req):
        offered = offered_protocols(req)
        if _TUNNEL in offered:

            def tunnel(rfile: Any, wfile: Any) -> None:
                stream = spdy.WebSocketBytes(WebSocket(rfile, wfile))
                _spdy_session(cluster, pod, spdy.Session(stream.read, stream.write))

            return upgrade_response(req, _TUNNEL, tunnel)
        if _CHANNELS in offered:
            ports = _ports(req)

            def channels(rfile: Any, wfile: Any) -> None:
                _channel_session(cluster, pod, ports, WebSocket(rfile, wfile))

            return upgrade_response(req, _CHANNELS, channels)
        raise bad_request(
            f"requested protocol(s) are not supported: {offered}; supports {[_TUNNEL, _CHANNELS]}"
        )
    if spdy.wants_spdy(req):
        if _PROTOCOL not in [p.strip() for p in req.header("X-Stream-Protocol-Version").split(",")]:
            raise bad_request(f"unable to upgrade: protocol not supported, supports [{_PROTOCOL}]")

        def plain(rfile: Any, wfile: Any) -> None:
            _spdy_session(cluster, pod, spdy.Session(rfile.read, lambda b: (wfile.write(b), wfile.flush())))

        return spdy.upgrade_response(_PROTOCOL, plain)
    raise ApiError(400, "BadRequest", "Upgrade request required")
