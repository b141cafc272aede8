"""`LocalServerTransport`: a local model's llama.cpp server starts on the first model call, not before.

Building opsgraph's runtime builds its chat model, and commands that never call the model (`threads list`,
`approve` of a thread that ends at once) must not load one into memory for seconds. The OpenAI client of a
`local:` model therefore gets this transport: it starts (or finds, see `local_shared`) the shared server
when the first request goes out, sends every request to it, and starts it again if it has died since.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx

__all__ = ["LOCAL_BASE_URL", "AsyncLocalServerTransport", "LocalServerTransport"]

LOCAL_BASE_URL = "http://local-model.opsgraph.invalid/v1"
"""The base URL the client is built with; the transport sends its requests to the real server instead."""


_FAILED_FOR_S = 30.0


class _Target:
    """The server's address, found or started once per death, shared by the sync and async transports."""

    def __init__(self, start: Callable[[], str]) -> None:
        self._start, self._lock = start, threading.Lock()
        self._url: httpx.URL | None = None
        self._failed: tuple[float, Exception] | None = None

    def url(self) -> httpx.URL:
        with self._lock:
            if self._url is None:
                # a start that just failed fails again at once: the client's retry must not wait twice
                if self._failed is not None and time.monotonic() - self._failed[0] < _FAILED_FOR_S:
                    raise self._failed[1]
                try:
                    self._url = httpx.URL(self._start())
                except Exception as exc:
                    self._failed = (time.monotonic(), exc)
                    raise
            return self._url

    def forget(self, seen: httpx.URL) -> None:
        with self._lock:
            if self._url == seen:
                self._url = None

    @staticmethod
    def redirect(request: httpx.Request, base: httpx.URL) -> None:
        request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
        request.headers["Host"] = f"{base.host}:{base.port}"


class LocalServerTransport(httpx.BaseTransport):
    """Send requests to the local server, starting it on first use and again after it died."""

    def __init__(self, start: Callable[[], str]) -> None:
        self.target = _Target(start)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        base = self.target.url()
        _Target.redirect(request, base)
        try:
            return self._inner.handle_request(request)
        except httpx.ConnectError:  # the server is gone (killed, or stopped after its keep-alive)
            self.target.forget(base)
            _Target.redirect(request, self.target.url())
            return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncLocalServerTransport(httpx.AsyncBaseTransport):
    """The async twin of `LocalServerTransport`, sharing its target."""

    def __init__(self, target: LocalServerTransport) -> None:
        self.target = target.target
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        base = await asyncio.to_thread(self.target.url)
        _Target.redirect(request, base)
        try:
            return await self._inner.handle_async_request(request)
        except httpx.ConnectError:
            self.target.forget(base)
            _Target.redirect(request, await asyncio.to_thread(self.target.url))
            return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
