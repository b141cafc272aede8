"""`RequestGuard`: what every request must pass before the application reads a byte of its body.

1. Without API tokens, only loopback `Host` names (`localhost`, `127.0.0.1`, `[::1]`): a page on another
   site whose name was pointed at 127.0.0.1 (DNS rebinding) would otherwise act as the local admin.
   `/slack/` is exempt: its requests carry their own proof (Slack's signature).
2. With tokens, every `/v1/` request's bearer token, so an unauthenticated body is never parsed.
3. The body's size: `Content-Length` over the limit is refused at once, a body without one is read only up
   to the limit; either way `413`. The body is then replayed to the application.
"""

from __future__ import annotations

import ipaddress

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.auth import PRINCIPAL_KEY, Authenticator
from server.problems import problem_response

__all__ = ["RequestGuard", "loopback_host"]

_SIGNED_PATHS = ("/slack/",)


def loopback_host(host: str) -> bool:
    """Whether a `Host` header names this machine by a loopback name or address (a port may follow)."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        name = host[1:].partition("]")[0]
    else:
        name = host.rpartition(":")[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _TooLargeError(Exception):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, *, auth: Authenticator, max_body_bytes: int) -> None:
        self.app, self.auth, self.max_body_bytes = app, auth, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)

        async def refuse(status: int, detail: str, extra: dict[str, str] | None = None) -> None:
            response = problem_response(status, detail, instance=path, headers=extra)
            await response(scope, receive, send)

        if not self.auth.enabled and not path.startswith(_SIGNED_PATHS):
            host = headers.get("host", "")
            if not loopback_host(host):
                await refuse(
                    400,
                    f"host {host[:100]!r} is not served: without API tokens this server answers only to "
                    "localhost, 127.0.0.1 and [::1] (set OPSGRAPH_API_TOKENS to serve other names)",
                )
                return
        if self.auth.enabled and path.startswith("/v1/"):
            try:
                principal = self.auth.authenticate(headers.get("authorization"))
            except HTTPException as exc:
                await refuse(exc.status_code, str(exc.detail), dict(exc.headers or {}))
                return
            scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            if not length.isdigit():
                await refuse(400, "Content-Length is not a number")
            else:
                await refuse(413, self._too_large())
            return
        try:
            body = await self._read(receive)
        except _TooLargeError:
            await refuse(413, self._too_large())
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only `http.disconnect` is left to wait for

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes (OPSGRAPH_MAX_BODY_BYTES)"

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left; the app sees an empty body
                return b"".join(chunks)
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
