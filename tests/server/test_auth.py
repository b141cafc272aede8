"""Bearer tokens map to a user and a role; without tokens the server is local-only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app, safe_bind_host
from server.auth import Principal, TokenSpecError, parse_tokens
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import Served


def test_missing_or_unknown_token_is_401(served: Served) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YWxpY2U6eA=="}):
        response = served.client.get("/v1/threads", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


def test_health_and_metrics_need_no_token(served: Served) -> None:
    health = served.client.get("/healthz").json()
    assert health == {"status": "ok", "version": health["version"], "checkpoint": "sqlite", "auth": True,
                      "read_only": False}  # fmt: skip
    assert served.client.get("/metrics").status_code == 200


def test_token_spec_parsing() -> None:
    assert parse_tokens(" t1=alice:admin , t2=bob ") == {
        "t1": Principal("alice", "admin"),
        "t2": Principal("bob", "operator"),
    }
    assert parse_tokens("") == {}
    assert parse_tokens("t1=alice,") == {"t1": Principal("alice", "operator")}  # a trailing comma is fine
    for bad, message in (
        ("t1", "entry 1: expected TOKEN=USER"),
        ("t1=alice:admin,t2=bob:root", "entry 2: unknown role 'root'"),
        ("t1=a,t1=b", "entry 2: the same token appears twice"),
    ):
        with pytest.raises(TokenSpecError, match=message):
            parse_tokens(bad)


@pytest.mark.parametrize("spec", [",", " , ,", "\t,"])
def test_a_token_setting_that_names_no_token_is_an_error(spec: str) -> None:
    """Read as "no tokens" it would switch authentication off (and `safe_bind_host` let 0.0.0.0 through)."""
    with pytest.raises(TokenSpecError, match="names no token"):
        parse_tokens(spec)
    settings = Settings(checkpoint_url="memory", api_tokens=spec)
    with pytest.raises(TokenSpecError):
        safe_bind_host("0.0.0.0", settings)
    with Runtime(settings, tools=RecordingCluster().tools()) as runtime, pytest.raises(TokenSpecError):
        create_app(runtime)


def test_without_tokens_every_request_is_the_local_admin(checkpoint_url: str) -> None:
    settings = Settings(checkpoint_url=checkpoint_url, user="carol")
    with (
        Runtime(settings, tools=RecordingCluster().tools()) as runtime,
        TestClient(create_app(runtime), base_url="http://localhost") as client,
    ):
        me = client.get("/v1/me").json()
        assert me.pop("cluster")  # what the approval cards name
        assert me == {"user": "carol", "role": "admin", "can_approve": True, "read_only": False}
        assert client.get("/healthz").json()["auth"] is False


def test_read_only_server_makes_everyone_read_only(checkpoint_url: str) -> None:
    settings = Settings(checkpoint_url=checkpoint_url, api_tokens="t=alice:admin", read_only=True)
    with (
        Runtime(settings, tools=RecordingCluster().tools()) as runtime,
        TestClient(create_app(runtime)) as client,
    ):
        me = client.get("/v1/me", headers={"Authorization": "Bearer t"}).json()
        assert (me["can_approve"], me["read_only"]) == (False, True)


def test_without_tokens_the_server_binds_loopback_only() -> None:
    open_settings = Settings(checkpoint_url="memory")
    assert safe_bind_host("0.0.0.0", open_settings)[0] == "127.0.0.1"
    assert "refusing to listen on 0.0.0.0" in (safe_bind_host("0.0.0.0", open_settings)[1] or "")
    assert safe_bind_host("::1", open_settings)[0] == "::1"
    with_tokens = Settings(checkpoint_url="memory", api_tokens="t=alice:admin")
    assert safe_bind_host("0.0.0.0", with_tokens) == ("0.0.0.0", None)
