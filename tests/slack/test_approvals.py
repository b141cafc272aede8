"""Approvals are Block Kit buttons; only Slack users mapped to admin or operator may press them."""

from __future__ import annotations

import html
from typing import Any

from tests.slack.conftest import ADMIN, READER, STRANGER, SlackWorld, mention
from tests.slack.fake_slack import SlackCall


def _card(slack: SlackWorld) -> dict[str, Any]:
    def has_card(calls: list[SlackCall]) -> bool:
        return any(name == "chat.update" and "opsgraph_approve" in str(p.get("blocks")) for name, p in calls)

    slack.api.wait_for(has_card)
    card = next(p for p in slack.api.posted("chat.update") if "opsgraph_approve" in str(p.get("blocks")))
    return {**card, "thread_ts": "1900.0001"}


def test_scale_waits_for_a_button_and_admin_approves(slack: SlackWorld) -> None:
    slack.post_event(mention("scale deploy web to 3 in shop", ts="1900.0001"))
    card = _card(slack)
    # the preview is on the card (Slack's mrkdwn escapes &, < and >)
    assert "spec.replicas: 1 -> 3" in html.unescape(str(card["blocks"]))
    assert slack.cluster.replicas["shop/web"] == 1
    assert slack.click("opsgraph_approve", ADMIN, card).status_code == 200
    slack.api.wait_for(
        lambda calls: any("scaled to 3" in str(p.get("text")) for n, p in calls if n == "chat.postMessage")
    )
    assert slack.cluster.replicas["shop/web"] == 3
    decided = [p for p in slack.api.posted("chat.update") if "Approved by" in str(p.get("blocks"))]
    assert decided and "opsgraph_approve" not in str(decided[0]["blocks"])  # buttons removed
    [entry] = slack.runtime.store.audit("slack-T1-C1-1900.0001")
    assert (entry.decision, entry.approver) == ("approved", "alice")


def test_reject_button_changes_nothing(slack: SlackWorld) -> None:
    slack.post_event(mention("scale deploy web to 3 in shop", ts="1900.0001"))
    slack.click("opsgraph_reject", ADMIN, _card(slack))
    slack.api.wait_for(
        lambda calls: any("rejected" in str(p.get("text")) for n, p in calls if n == "chat.postMessage")
    )
    assert slack.cluster.replicas["shop/web"] == 1


def test_unmapped_and_readonly_users_cannot_approve(slack: SlackWorld) -> None:
    slack.post_event(mention("scale deploy web to 3 in shop", ts="1900.0001"))
    card = _card(slack)
    for user in (STRANGER, READER):
        slack.click("opsgraph_approve", user, card)
    slack.api.wait_for(lambda calls: len([n for n, _ in calls if n == "chat.postEphemeral"]) == 2)
    refusals = slack.api.posted("chat.postEphemeral")
    assert {r["user"] for r in refusals} == {STRANGER, READER}
    assert "not mapped" in refusals[0]["text"] or "not mapped" in refusals[1]["text"]
    assert slack.cluster.replicas["shop/web"] == 1
    assert slack.runtime.pending("slack-T1-C1-1900.0001") is not None


def test_unmapped_users_chat_read_only(slack: SlackWorld) -> None:
    slack.post_event(mention("scale deploy web to 3 in shop", ts="1950.0001", user=STRANGER))
    slack.api.wait_for(
        lambda calls: any("read-only" in str(p.get("text")) for n, p in calls if n == "chat.update")
    )
    assert slack.cluster.replicas["shop/web"] == 1


def test_a_second_click_is_told_it_was_already_answered(slack: SlackWorld) -> None:
    slack.post_event(mention("scale deploy web to 3 in shop", ts="1900.0001"))
    card = _card(slack)
    slack.click("opsgraph_approve", ADMIN, card)
    slack.click("opsgraph_reject", ADMIN, card)  # a stale card still shows its buttons in another client
    slack.api.wait_for(lambda calls: any("already answered" in str(p.get("text")) for n, p in calls))
    assert [name for name, _ in slack.cluster.calls] == ["scale_deployment"]
    assert slack.cluster.replicas["shop/web"] == 3
