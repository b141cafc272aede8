"""A server with the Slack bot mounted at /slack/events, Bolt's Web API client pointed at FakeSlackApi."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from server.slack.bot import SlackBot
from server.slack.config import SlackConfig
from tests.agents.recording_tools import RecordingCluster
from tests.slack.fake_slack import FakeSlackApi, sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN, READER, STRANGER = "UADMIN01", "UREAD001", "USTRANGE"


@dataclass
class SlackWorld:
    client: TestClient
    api: FakeSlackApi
    runtime: Runtime
    cluster: RecordingCluster

    def post_event(self, event: dict[str, Any], *, event_id: str = "Ev1", **sign_args: Any) -> httpx.Response:
        body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event})
        return self.client.post(
            "/slack/events",
            content=body,
            headers={"Content-Type": "application/json", **sign(body, SECRET, **sign_args)},
        )

    def click(self, action_id: str, slack_user: str, message: dict[str, Any]) -> httpx.Response:
        button = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["action_id"] == action_id)  # fmt: skip
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": slack_user},
            "channel": {"id": message["channel"]},
            "message": {
                "ts": message["ts"],
                "thread_ts": message.get("thread_ts"),
                "blocks": message["blocks"],
            },
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "opsgraph_decision",
                    "value": button["value"],
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, SECRET)}
        return self.client.post("/slack/events", content=body, headers=headers)


def mention(text: str, *, ts: str, thread_ts: str | None = None, user: str = ADMIN) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": "C1",
        "team": "T1",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


@pytest.fixture
def slack(tmp_path: Path) -> Iterator[SlackWorld]:
    cluster = RecordingCluster()
    settings = Settings(checkpoint_url=f"sqlite:///{tmp_path / 'slack.sqlite'}", api_tokens="t=alice:admin")
    with FakeSlackApi() as api, Runtime(settings, tools=cluster.tools()) as runtime:
        config = SlackConfig(
            bot_token=SecretStr("xoxb-test"),
            signing_secret=SecretStr(SECRET),
            users=f"{ADMIN}=alice:admin,{READER}=rita:readonly",
            api_url=api.url,
        )
        with TestClient(create_app(runtime, slack=SlackBot(runtime, config))) as client:
            yield SlackWorld(client, api, runtime, cluster)
