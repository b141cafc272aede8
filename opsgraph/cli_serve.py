"""`opsgraph serve`: the HTTP API, web chat page and Slack bot.

Only typer is imported at module level; everything heavy loads inside the command.
"""

from __future__ import annotations

import socket
from logging import Logger
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from opsgraph.sdk import Assistant
    from server.workers import RunProcesses

__all__ = ["serve", "slack"]


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback only without tokens)."
    ),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
    processes: int | None = typer.Option(
        None,
        "--run-processes",
        min=0,
        max=64,
        help="Worker processes that execute runs (default: one per CPU, at most 4; 0: in the server's process).",
    ),
    workers: int = typer.Option(
        16, "--run-threads", min=1, max=1024, help="Runs executing at once in each worker process."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the HTTP API, the web chat page at / and, when configured, the Slack bot at /slack/events."""
    import logging
    import signal

    import uvicorn

    from opsgraph.sdk import Assistant
    from opsgraph.settings import Settings
    from server.app import create_app, safe_bind_host
    from server.auth import TokenSpecError, parse_tokens
    from server.slack.config import SlackConfig

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    log = logging.getLogger("opsgraph.server")
    settings = Settings()
    # everything that can refuse to start does so before anything starts (a sandbox above all)
    try:
        parse_tokens(settings.api_tokens)
    except TokenSpecError as exc:
        typer.echo(f"error: OPSGRAPH_API_TOKENS: {exc}", err=True)
        raise typer.Exit(1) from None
    slack_config = SlackConfig()
    try:
        slack_config.principals()
    except TokenSpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    bind, note = safe_bind_host(host, settings)
    if note:
        log.warning(note)
    sock = _listen(bind, port)
    with Assistant(settings) as assistant:
        try:
            slack = None
            if slack_config.http_mode_ready():
                from server.slack.bot import SlackBot

                slack = SlackBot(assistant.runtime, slack_config)
                log.info("Slack bot listening at /slack/events")
            pool = _run_processes(assistant, processes, workers, log)
            # the typed domain calls (`/v1/cost/plan`) read the cluster the runs use: the sandbox too
            app = create_app(
                assistant.runtime,
                slack=slack,
                workers=workers,
                processes=pool,
                tool_context=assistant.runtime.tool_context,
            )
        except BaseException:
            if assistant.sandbox is not None:  # a failed start-up leaves no sandbox it started behind
                assistant.sandbox.stop_if_started()
            raise
        if assistant.sandbox is not None:
            record = assistant.sandbox.record
            how = "started" if assistant.sandbox.started else "shared with other opsgraph processes"
            log.info("cluster: the sandbox at %s (pid %d, %s)", record.https_url, record.pid, how)
        log.info(
            "opsgraph on http://%s:%d (checkpoints: %s; runs: %s)",
            bind,
            port,
            assistant.runtime.store.url.split("@")[-1],
            f"{pool.size} worker processes x {workers} threads" if pool else f"{workers} threads",
        )
        # uvicorn re-raises the signal that stopped it once it has shut down; with the default SIGTERM
        # action that would end the process inside this `with`, before the runtime is closed.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        config = uvicorn.Config(app, log_level=log_level, timeout_keep_alive=30, timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound now: a port in use is a one-line error before anything has started."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    return sock


def _run_processes(
    assistant: Assistant, processes: int | None, threads: int, log: Logger
) -> RunProcesses | None:
    """The worker processes for runs, over the assistant's own cluster and checkpoint database; None when
    runs stay in the server's process (asked for, or a memory checkpointer the workers cannot share)."""
    import os

    from server.workers import RunProcesses, WorkerStartError

    count = min(4, os.cpu_count() or 1) if processes is None else processes
    if count == 0:
        return None
    settings = assistant.settings.model_copy(
        update={
            "kubeconfig": assistant.runtime.tool_context.kubeconfig,
            "checkpoint_url": assistant.settings.resolved_checkpoint_url(),
        }
    )
    try:
        return RunProcesses(settings, processes=count, threads=threads)
    except WorkerStartError as exc:
        if processes:  # asked for explicitly: say why not, and stop
            typer.echo(f"error: --run-processes {processes}: {exc}", err=True)
            raise typer.Exit(1) from None
        log.warning("runs execute in the server's process: %s", exc)
        return None


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def slack() -> None:
    """Run the Slack bot over Socket Mode (no public URL needed): set OPSGRAPH_SLACK_BOT_TOKEN and _APP_TOKEN."""
    from opsgraph.sdk import Assistant
    from server.slack.bot import SlackBot
    from server.slack.config import SlackConfig

    config = SlackConfig()
    missing = config.socket_mode_missing()
    if missing:
        typer.echo(f"error: set {' and '.join(missing)} to run the Slack bot in Socket Mode", err=True)
        raise typer.Exit(1)
    with Assistant() as assistant:
        SlackBot(assistant.runtime, config).run_socket_mode()
