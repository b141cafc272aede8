"""Mentions and DMs: the answer lands in the Slack thread, and a Slack thread is one opsgraph thread."""

from __future__ import annotations

from tests.slack.conftest import SlackWorld, mention
from tests.slack.fake_slack import SlackCall


def _answered(calls: list[SlackCall], needle: str) -> bool:
    return any(name == "chat.update" and needle in str(params.get("text")) for name, params in calls)


def test_mention_is_answered_in_its_thread(slack: SlackWorld) -> None:
    response = slack.post_event(mention("list pods in payments", ts="1700.0001"))
    assert response.status_code == 200
    slack.api.wait_for(lambda calls: _answered(calls, "web-1 Running"))
    [placeholder] = slack.api.posted("chat.postMessage")
    assert (placeholder["channel"], placeholder["thread_ts"]) == ("C1", "1700.0001")
    [update] = slack.api.posted("chat.update")
    assert update["ts"] is not None
    assert "list_pods" in str(update["blocks"])  # the steps, in a context block


def test_replies_in_a_slack_thread_continue_the_opsgraph_thread(slack: SlackWorld) -> None:
    slack.post_event(mention("list pods in payments", ts="1700.0001"), event_id="Ev1")
    slack.api.wait_for(lambda calls: _answered(calls, "payments: web-1"))
    slack.post_event(mention("list pods in shop", ts="1700.0009", thread_ts="1700.0001"), event_id="Ev2")
    slack.api.wait_for(lambda calls: _answered(calls, "shop: web-1"))
    thread_id = "slack-T1-C1-1700.0001"
    asked = [m.text for m in slack.runtime.messages(thread_id, user="slack:T1:C1") if m.type == "human"]
    assert asked == ["list pods in payments", "list pods in shop"]


def test_retried_event_is_handled_once(slack: SlackWorld) -> None:
    slack.post_event(mention("list pods in payments", ts="1700.0001"), event_id="EvSame")
    slack.post_event(mention("list pods in payments", ts="1700.0001"), event_id="EvSame")
    slack.api.wait_for(lambda calls: _answered(calls, "web-1 Running"))
    assert len(slack.api.posted("chat.postMessage")) == 1


def test_direct_message_is_answered(slack: SlackWorld) -> None:
    dm = {"type": "message", "channel_type": "im", "user": "UADMIN01", "text": "list pods in payments",
          "ts": "1800.0001", "channel": "D1", "team": "T1"}  # fmt: skip
    assert slack.post_event(dm, event_id="EvDm").status_code == 200
    slack.api.wait_for(lambda calls: _answered(calls, "web-1 Running"))
    assert slack.api.posted("chat.postMessage")[0]["channel"] == "D1"
