"""A chat over HTTP never makes the server read its own files: "explain policy /some/path" is refused for every
role, unless the path lies in the workspace (`OPSGRAPH_WORKSPACE`) once links are resolved. The runs use the
real IAM tools (the offline model reads the path from the request, as a real model would)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from server.workers import RunProcesses
from tests.server.conftest import ALICE, RITA, TOKENS, new_thread, send, sse
from tools.base import PathRefusedError, ToolContext

SECRET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret-bucket/*"}],
}
TEAM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::team-bucket"}],
}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """tmp/server/secret.json (the server's own file), tmp/workspace/team.json and a link out of it."""
    (tmp_path / "server").mkdir()
    (tmp_path / "workspace").mkdir()
    (tmp_path / "server" / "secret.json").write_text(json.dumps(SECRET_POLICY))
    (tmp_path / "workspace" / "team.json").write_text(json.dumps(TEAM_POLICY))
    (tmp_path / "workspace" / "link.json").symlink_to(tmp_path / "server" / "secret.json")
    return tmp_path


def _client(settings: Settings, workdir: Path, processes: RunProcesses | None = None) -> Iterator[TestClient]:
    with (
        Runtime(settings, tool_context=ToolContext(workdir=workdir)) as runtime,
        TestClient(create_app(runtime, processes=processes)) as client,
    ):
        yield client


def _chat(client: TestClient, text: str, headers: dict[str, str]) -> tuple[str, str]:
    """The explain_policy tool's result and the whole stream, as text."""
    response = send(client, new_thread(client, headers), text, headers)
    events = sse(response)
    [result] = [e["content"] for e in events if e["type"] == "tool_result"]
    return result, response.text


def test_without_a_workspace_no_role_makes_the_server_read_a_file(files: Path) -> None:
    settings = Settings(checkpoint_url=f"sqlite:///{files / 'c.sqlite'}", api_tokens=TOKENS, model="offline")
    for client in _client(settings, workdir=files / "server"):
        for headers in (ALICE, RITA):
            for path in (str(files / "server" / "secret.json"), "secret.json"):  # absolute, and the workdir's
                result, stream = _chat(client, f"explain policy {path}", headers)
                assert "files are not read for requests over HTTP" in result
                assert "secret-bucket" not in stream


def test_the_workspace_is_read_and_nothing_outside_it(files: Path) -> None:
    settings = Settings(
        checkpoint_url=f"sqlite:///{files / 'c.sqlite'}",
        api_tokens=TOKENS,
        model="offline",
        workspace=files / "workspace",
    )
    for client in _client(settings, workdir=files / "server"):
        result, _ = _chat(client, "explain policy team.json", RITA)
        assert "team-bucket" in result
        for path in ("link.json", "../server/secret.json", str(files / "server" / "secret.json")):
            result, stream = _chat(client, f"explain policy {path}", ALICE)
            assert "outside the server's workspace" in result, path
            assert "secret-bucket" not in stream


def test_runs_in_worker_processes_are_confined_too(files: Path) -> None:
    settings = Settings(checkpoint_url=f"sqlite:///{files / 'c.sqlite'}", api_tokens=TOKENS, model="offline")
    processes = RunProcesses(settings, processes=1, threads=2)
    for client in _client(settings, workdir=files / "server", processes=processes):
        result, stream = _chat(client, f"explain policy {files / 'server' / 'secret.json'}", RITA)
        assert "files are not read for requests over HTTP" in result
        assert "secret-bucket" not in stream


def test_a_confined_context_resolves_only_inside_its_workspace(files: Path) -> None:
    local = ToolContext(workdir=files / "server")
    assert local.resolve("secret.json") == files / "server" / "secret.json"  # the CLI and SDK: as before
    workspace = files / "workspace"
    ctx = ToolContext(workdir=files / "server")
    ctx.confine(None)
    for path in ("secret.json", str(files / "server" / "secret.json")):
        with pytest.raises(PathRefusedError, match="not read for requests"):
            ctx.resolve(path)
    ctx.confine(workspace)
    assert ctx.resolve("team.json") == workspace.resolve() / "team.json"
    assert ctx.resolve(str(workspace / "team.json")) == workspace.resolve() / "team.json"
    assert ctx.resolve("new/out.json") == workspace.resolve() / "new" / "out.json"  # a file to write
    assert ctx.resolve("team.json", base=workspace / "sub") == workspace.resolve() / "sub" / "team.json"
    for path in ("link.json", "../server/secret.json", "/etc/passwd", "sub/../../server/secret.json"):
        with pytest.raises(PathRefusedError, match="outside the server's workspace"):
            ctx.resolve(path)
    assert isinstance(PathRefusedError("x"), OSError)  # tools report it like any unreadable file
    assert ctx.setting_path("prices.toml") == files / "server" / "prices.toml"  # the operator's own paths
