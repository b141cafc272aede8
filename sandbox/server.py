"""The HTTP server: stdlib `ThreadingHTTPServer` speaking HTTP/1.1, chunked for watches."""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.api import Api
from sandbox.http import Request, Response

__all__ = ["SandboxServer", "serve_in_thread"]


def _joined(items: Any) -> dict[str, str]:
    """Headers by name; one sent more than once (X-Stream-Protocol-Version, Impersonate-Group) is comma-joined."""
    out: dict[str, str] = {}
    for name, value in items:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            self.command,
            url.path,
            dict(parse_qsl(url.query, keep_blank_values=True)),
            _joined(self.headers.items()),
            body,
            url.query,
        )
        response = self.server.api.handle(req)
        self._write(response)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        if response.upgrade is not None:
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True  # the protocol that takes over ends with the connection
            with contextlib.suppress(OSError):  # the client went away
                response.upgrade(self.rfile, self.wfile)
            return
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in response.stream:
                if not chunk:
                    if self._client_gone():
                        break
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _client_gone(self) -> bool:
        """While a response streams the client sends nothing: input now means it closed the connection."""
        try:
            return bool(select.select([self.connection], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815 - http.server names


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        api: Api,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.api = api
        self.verbose = verbose
        self.tls = tls
        self.ca_pem: bytes | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve TLS or plain HTTP on the same port, told apart by the first byte (0x16: a TLS handshake)."""
        if isinstance(request, socket.socket):
            # headers and body go out in separate writes: without NODELAY, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every keep-alive request
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None and isinstance(request, socket.socket):
            request.settimeout(30)
            try:
                first = request.recv(1, socket.MSG_PEEK)
            except OSError:
                return
            if first == b"\x16":
                try:
                    request = self.tls.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
            request.settimeout(None)
        super().finish_request(request, client_address)

    @property
    def url(self) -> str:
        """Plain HTTP (the Prometheus API, and any client that sends its token over HTTP)."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def https_url(self) -> str:
        host, port = self.server_address[:2]
        return f"https://{host!s}:{port}"


def serve_in_thread(server: SandboxServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    return thread
