"""`opsgraph serve` and `opsgraph slack`: registered, documented, and clear about bad configuration."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from opsgraph import cli


def test_serve_and_slack_are_commands() -> None:
    result = CliRunner().invoke(cli.app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
    assert CliRunner().invoke(cli.app, ["slack", "--help"]).exit_code == 0


def test_serve_refuses_a_malformed_token_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_API_TOKENS", "t1=alice:superuser")
    result = CliRunner().invoke(cli.app, ["serve", "--port", "18999"])
    assert result.exit_code == 1
    assert "error: OPSGRAPH_API_TOKENS: api_tokens entry 1: unknown role 'superuser'" in result.output


def test_serve_rejects_a_bad_port() -> None:
    assert CliRunner().invoke(cli.app, ["serve", "--port", "0"]).exit_code == 2


def test_slack_needs_its_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPSGRAPH_SLACK_BOT_TOKEN", "OPSGRAPH_SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli.app, ["slack"])
    assert result.exit_code == 1
    assert "set OPSGRAPH_SLACK_BOT_TOKEN and OPSGRAPH_SLACK_APP_TOKEN" in result.output
