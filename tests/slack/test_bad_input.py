"""Bad input at /slack/events gets a 4xx, never a 500 or a traceback, and its body is never logged.

The signature is Bolt's real check (slack_sdk's SignatureVerifier, then Bolt's RequestVerification); the
bodies are what a scanner or a forger sends.
"""

from __future__ import annotations

import json
import logging

import pytest

from tests.slack.conftest import SECRET, SlackWorld, mention
from tests.slack.fake_slack import sign

JUNK: list[tuple[bytes, str]] = [
    (b"\xff\xfe\x00junk", "application/json"),
    (b"{not json", "application/json"),
    (b"payload=%7Bx", "application/x-www-form-urlencoded"),
    (b"[1, 2]", "application/json"),
    (b"", "application/json"),
    (b"<xml/>", "text/xml"),
]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _assert_clean(logs: pytest.LogCaptureFixture, marker: str) -> None:
    text = logs.text
    assert "Traceback" not in text
    assert marker not in text, "a request body reached the log"


def test_unsigned_junk_is_401(slack: SlackWorld, logs: pytest.LogCaptureFixture) -> None:
    for body, content_type in JUNK:
        for headers in (
            {},
            {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=zz"},
            {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
        ):
            response = slack.client.post(
                "/slack/events", content=body, headers={"Content-Type": content_type, **headers}
            )
            assert response.status_code in (400, 401), (body, headers, response.status_code)
    _assert_clean(logs, "junk")
    assert slack.api.calls == []


def test_signed_junk_is_400(slack: SlackWorld, logs: pytest.LogCaptureFixture) -> None:
    for body, content_type in JUNK[1:4]:
        text = body.decode()
        response = slack.client.post(
            "/slack/events", content=body, headers={"Content-Type": content_type, **sign(text, SECRET)}
        )
        assert response.status_code == 400, (body, response.status_code, response.text)
        assert response.json() == {"error": "the body is not a Slack payload"}
    non_utf8 = slack.client.post(
        "/slack/events", content=JUNK[0][0], headers={"Content-Type": "application/json", **sign("x", SECRET)}
    )
    assert non_utf8.status_code == 400
    _assert_clean(logs, "not json")


def test_a_forged_10_mb_body_is_refused_unread_and_unlogged(
    slack: SlackWorld, logs: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"type": "event_callback", "event": mention("A" * 10_000_000, ts="1.1")})
    response = slack.client.post(
        "/slack/events", content=body, headers={"Content-Type": "application/json", **sign(body, "forged")}
    )
    assert response.status_code == 413
    assert "OPSGRAPH_MAX_BODY_BYTES" in response.json()["detail"]
    _assert_clean(logs, "A" * 100)
    assert all(len(r.getMessage()) < 2000 for r in logs.records)


def test_a_forged_small_body_is_not_logged(slack: SlackWorld, logs: pytest.LogCaptureFixture) -> None:
    body = json.dumps({"type": "event_callback", "event": mention("MARKER-4f1d scale deploy web", ts="1.2")})
    response = slack.client.post(
        "/slack/events", content=body, headers={"Content-Type": "application/json", **sign(body, "forged")}
    )
    assert response.status_code == 401
    _assert_clean(logs, "MARKER-4f1d")


def test_the_bot_still_answers_signed_events_after_the_junk(slack: SlackWorld) -> None:
    slack.client.post("/slack/events", content=b"{not json", headers={"Content-Type": "application/json"})
    assert slack.post_event(mention("list pods in payments", ts="2.1")).status_code == 200
    slack.api.wait_for(
        lambda calls: any(
            name == "chat.update" and "web-1" in str(params.get("text")) for name, params in calls
        )
    )
