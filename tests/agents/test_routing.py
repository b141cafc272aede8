from __future__ import annotations

import pytest

from agents.models import VOCABULARY, OfflineChatModel
from agents.routing import route_request

EXPECTED = {
    "list pods in payments": ["kubernetes"],
    "why is pod web-1 failing": ["kubernetes"],
    "what is wrong with my cluster": ["kubernetes"],
    "what is wrong with namespace shop": ["kubernetes"],
    "diagnose deployment web in shop": ["kubernetes"],
    "diagnose service web in shop": ["kubernetes"],
    "scale deploy web to 3 in shop": ["kubernetes"],
    "compare policy a.json with b.json": ["iam"],
    "repair policy p.json with requests r.json": ["iam"],
    "explain policy p.json": ["iam"],
    "is s3:GetObject on arn:aws:s3:::b/k allowed by policy p.json": ["iam"],
    "lint policy p.json": ["iam"],
    "check that new.json grants no new access over old.json": ["iam"],
    "check that policy p.json does not grant s3:DeleteBucket": ["iam"],
    "check that policy p.json is not public": ["iam"],
    "optimize cost": ["cost"],
}


def test_every_documented_phrase_is_covered() -> None:
    assert {p.example for p in VOCABULARY} == set(EXPECTED)


@pytest.mark.parametrize(("text", "agents"), sorted(EXPECTED.items()))
def test_phrase_routes_to_its_agent(text: str, agents: list[str]) -> None:
    assert route_request(OfflineChatModel(), text).agents == agents


@pytest.mark.parametrize(
    ("text", "agents"),
    [
        ("list pods in payments and explain policy p.json", ["kubernetes", "iam"]),
        ("optimize cost then scale deploy web to 2 in shop", ["cost", "kubernetes"]),
        ("explain policy a.json; compare policy a.json with b.json", ["iam"]),
    ],
)
def test_cross_domain_requests_route_in_order(text: str, agents: list[str]) -> None:
    assert route_request(OfflineChatModel(), text).agents == agents


def test_unknown_request_gets_no_agent_and_a_helpful_reply() -> None:
    decision = route_request(OfflineChatModel(), "write me a poem about clusters")
    assert decision.agents == []
    assert decision.reply is not None
    assert "list pods in payments" in decision.reply
    assert "OPSGRAPH_BASE_URL" in decision.reply
