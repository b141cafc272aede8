"""`opsgraph serve`: the HTTP API, web chat page and Slack bot.

Only typer is imported at module level; everything heavy loads inside the command.
"""

from __future__ import annotations

import typer

__all__ = ["serve", "slack"]


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback only without tokens)."
    ),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(32, "--run-threads", min=1, max=1024, help="Runs executing at once."),
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
    try:
        parse_tokens(settings.api_tokens)
    except TokenSpecError as exc:
        typer.echo(f"error: OPSGRAPH_API_TOKENS: {exc}", err=True)
        raise typer.Exit(1) from None
    bind, note = safe_bind_host(host, settings)
    if note:
        log.warning(note)
    slack_config = SlackConfig()
    with Assistant(settings) as assistant:
        slack = None
        if slack_config.http_mode_ready():
            from server.slack.bot import SlackBot

            slack = SlackBot(assistant.runtime, slack_config)
            log.info("Slack bot listening at /slack/events")
        app = create_app(assistant.runtime, slack=slack, workers=workers)
        log.info(
            "opsgraph on http://%s:%d (checkpoints: %s)",
            bind,
            port,
            assistant.runtime.store.url.split("@")[-1],
        )
        # uvicorn re-raises the signal that stopped it once it has shut down; with the default SIGTERM
        # action that would end the process inside this `with`, leaving the sandbox it started running.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        uvicorn.run(
            app, host=bind, port=port, log_level=log_level, timeout_keep_alive=30, timeout_graceful_shutdown=5
        )


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
