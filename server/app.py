"""`create_app`: the FastAPI application, from a `Runtime` (the same one the CLI and SDK drive)."""

from __future__ import annotations

import importlib.metadata
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agents.runtime import Runtime
from agents.settings import Settings
from agents.tool_context import tool_context_for
from server import streams, threads
from server.auth import Authenticator, parse_tokens
from server.domain_routes import install_domain_routes
from server.heap import freeze_startup_heap
from server.limits import RequestGuard
from server.metrics import Metrics
from server.models import Health, WhoAmI
from server.openapi import install_openapi
from server.problems import PROBLEM_RESPONSES, install_problem_handlers
from server.redact import Redactor
from server.runs import BusyThreads, Foreground, RunPump
from server.state import CurrentPrincipal, CurrentState, ServerState
from tools.base import ToolContext
from tools.cluster import describe_cluster

if TYPE_CHECKING:
    from server.slack.bot import SlackBot
    from server.workers import RunProcesses

__all__ = ["STATIC_DIR", "create_app", "safe_bind_host"]

log = logging.getLogger("opsgraph.server")
STATIC_DIR = Path(__file__).parent / "static"
VERSION = importlib.metadata.version("opsgraph")
"""The installed distribution's version, which `opsgraph.__version__` repeats: the server sits below the
`opsgraph` package and does not import it (tests/test_layers.py holds the two equal)."""


# The page loads only its own files and talks only to this server.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def safe_bind_host(host: str, settings: Settings) -> tuple[str, str | None]:
    """The address to bind: without API tokens anyone who can connect acts as the local user, so loopback only.
    Raises `TokenSpecError` for a malformed token setting (one that names no token included)."""
    if parse_tokens(settings.api_tokens):
        return host, None
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return (
            host,
            "no API tokens configured: every request acts as the local user; listening on loopback only",
        )
    return "127.0.0.1", (
        f"no API tokens configured: refusing to listen on {host}; listening on 127.0.0.1 only "
        "(set OPSGRAPH_API_TOKENS to serve other machines)"
    )


class _RequestMetrics:
    """Counts requests by route template and times them until the response headers go out."""

    def __init__(self, app: ASGIApp, metrics: Metrics, foreground: Foreground) -> None:
        self.app, self.metrics, self.foreground = app, metrics, foreground

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        waiting = True  # runs step aside until this request's response starts
        self.foreground.enter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status, waiting
            if message["type"] == "http.response.start":
                waiting = False
                self.foreground.leave()
                status = int(message["status"])
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                labels = {"method": scope["method"], "route": route}
                self.metrics.observe(
                    "opsgraph_http_request_duration_seconds", time.perf_counter() - start, **labels
                )
                self.metrics.inc("opsgraph_http_requests_total", **labels, status=str(status))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if waiting:
                self.foreground.leave()


def _marker(runtime: Runtime) -> Callable[[str], None]:
    """Marks a thread whose run was lost with its worker process: `error`, not `running` forever."""

    def mark(thread_id: str) -> None:
        info = runtime.store.thread(thread_id)
        if info is not None:
            runtime.store.touch_thread(thread_id, info.owner, info.title, "error")

    return mark


def create_app(
    runtime: Runtime,
    *,
    settings: Settings | None = None,
    slack: SlackBot | None = None,
    workers: int = 32,
    tool_context: ToolContext | None = None,
    processes: RunProcesses | None = None,
) -> FastAPI:
    """The server over `runtime`. `settings` (default: the runtime's) gives the tokens and read-only mode;
    `tool_context` (default: the settings' kubeconfig and context) is what the typed domain calls read.
    With `processes`, runs execute in those worker processes (which the app closes on shutdown) and
    `runtime` only answers reads; without, they run on `workers` threads of this process.

    The runtime's tool context (and `tool_context`) are confined to `settings.workspace` from here on:
    callers over HTTP and Slack never make the server read a file outside it."""
    settings = settings or runtime.settings
    auth = Authenticator(
        parse_tokens(settings.api_tokens), local_user=settings.user, read_only=settings.read_only
    )
    metrics = Metrics()
    tool_context = tool_context or tool_context_for(settings)
    for ctx in (runtime.tool_context, tool_context):
        ctx.confine(settings.workspace)
    state = ServerState(
        runtime,
        settings,
        auth,
        metrics,
        RunPump(metrics, workers, processes=processes, on_lost=_marker(runtime)),
        BusyThreads(),
        tool_context,
        Redactor.from_settings(settings, *(slack.secrets() if slack is not None else ())),
    )
    cluster = describe_cluster(tool_context, sandbox=settings.wants_sandbox())
    if not auth.enabled:
        log.warning("no API tokens configured: every request acts as %r with role admin", settings.user)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        freeze_startup_heap()
        yield
        state.pump.close()

    app = FastAPI(
        title="opsgraph",
        version=VERSION,
        summary="LLM agents for Kubernetes, AWS IAM and cost, with every change verified and approved.",
        lifespan=lifespan,
    )
    app.state.opsgraph = state
    install_problem_handlers(app)
    install_openapi(app)
    app.include_router(threads.router)
    app.include_router(streams.router)
    install_domain_routes(app)

    @app.get("/v1/me", tags=["auth"], responses=PROBLEM_RESPONSES, summary="Who the token belongs to")
    def whoami(state: CurrentState, principal: CurrentPrincipal) -> WhoAmI:
        read_only = state.read_only_for(principal)
        return WhoAmI(
            user=principal.user, role=principal.role, can_approve=principal.can_approve and not read_only,
            read_only=read_only, cluster=cluster,
        )  # fmt: skip

    @app.get("/healthz", tags=["ops"], summary="Liveness")
    def healthz(state: CurrentState) -> Health:
        backend = state.runtime.store.url.split(":", 1)[0].replace("postgresql", "postgres")
        return Health(version=VERSION, checkpoint=backend, auth=auth.enabled, read_only=settings.read_only)

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse, summary="Prometheus metrics")
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": _CSP}
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if slack is not None:
        slack.mount(app)
    guard: Any = RequestGuard
    app.add_middleware(guard, auth=auth, max_body_bytes=settings.max_body_bytes)
    wrapped: Any = _RequestMetrics  # outside the guard: refused requests are counted too
    app.add_middleware(wrapped, metrics=metrics, foreground=state.pump.foreground)
    return app
