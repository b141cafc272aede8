"""Only requests signed with the signing secret, and recent, reach the bot (Bolt's verification)."""

from __future__ import annotations

import json
import time

from tests.slack.conftest import SECRET, SlackWorld, mention
from tests.slack.fake_slack import sign


def test_signed_url_verification_is_answered(slack: SlackWorld) -> None:
    body = json.dumps(
        {"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    )
    response = slack.client.post(
        "/slack/events", content=body, headers={"Content-Type": "application/json", **sign(body, SECRET)}
    )
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_forged_signature_is_rejected(slack: SlackWorld) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event": mention("list pods", ts="1.1")})
    forged = sign(body, "not-the-secret")
    response = slack.client.post(
        "/slack/events", content=body, headers={"Content-Type": "application/json", **forged}
    )
    assert response.status_code == 401
    tampered = sign(body, SECRET)
    response = slack.client.post(
        "/slack/events", content=body.replace("list pods", "scale deploy web to 9"), headers=tampered
    )
    assert response.status_code == 401
    unsigned = slack.client.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    time.sleep(0.2)
    assert slack.api.calls == []  # no listener ran


def test_replayed_request_with_a_stale_timestamp_is_rejected(slack: SlackWorld) -> None:
    stale = int(time.time()) - 6 * 60  # Slack's window is five minutes
    response = slack.post_event(mention("list pods", ts="1.2"), timestamp=stale)
    assert response.status_code == 401
    time.sleep(0.2)
    assert slack.api.calls == []
