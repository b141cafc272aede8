"""The Slack app manifest asks for exactly what the bot uses and points Slack at the bot's endpoint."""

from __future__ import annotations

from pathlib import Path

import yaml

import server.slack

MANIFEST = Path(server.slack.__file__).parent / "manifest.yaml"


def test_manifest_matches_the_bot() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert settings["interactivity"]["is_enabled"] is True
    for url in (settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]):
        assert url.endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "im:history"} <= scopes
