"""Error messages never carry the server's secrets to a caller.

A real OpenAI-compatible endpoint on loopback refuses the credentials and quotes them back (as many servers
do); the server's model client raises with that text, and the caller sees the error with them blanked. The
endpoint's URL carries a password (which the client sends as Basic credentials): blanked in both forms.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from server.redact import Redactor
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import ALICE, RITA, TOKENS, new_thread, send, sse

KEY = "sk-live-4f1d9a8b7c6e5d4c3b2a"
PASSWORD = "hunter2-pw"


class _RefusesTheKey(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        given = self.headers.get("Authorization", "").removeprefix("Bearer ")
        body = json.dumps(
            {"error": {"message": f"Incorrect API key provided: {given}", "type": "invalid_request_error"}}
        )
        self.send_response(400)  # a status whose message the runtime passes on
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusesTheKey)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("userinfo", "echoed"),
    [
        ("", "Incorrect API key provided: ***"),
        (f"opsgraph:{PASSWORD}@", "Incorrect API key provided: Basic ***"),
    ],
)
def test_a_model_error_reaches_the_caller_without_the_credentials(
    port: int, userinfo: str, echoed: str
) -> None:
    settings = Settings(
        checkpoint_url="memory",
        api_tokens=TOKENS,
        model="tiny",
        base_url=f"http://{userinfo}127.0.0.1:{port}/v1",
        api_key=KEY,
        model_timeout_s=5,
    )
    secrets = (KEY, PASSWORD, base64.b64encode(f"opsgraph:{PASSWORD}".encode()).decode())
    with (
        Runtime(settings, tools=RecordingCluster().tools()) as runtime,
        TestClient(create_app(runtime)) as client,
    ):
        for headers in (ALICE, RITA):
            response = send(client, new_thread(client, headers), "list pods in payments", headers)
            [error] = [e for e in sse(response) if e["type"] == "error"]
            assert echoed in error["message"]  # the error itself still says why
            assert all(secret not in response.text for secret in secrets)


def test_the_redactor_blanks_secrets_and_url_passwords() -> None:
    settings = Settings(
        checkpoint_url="memory", api_key=KEY, api_tokens="tok-alice-1=alice:admin,tok-bob-2=bob"
    )
    redact = Redactor.from_settings(settings, "xoxb-slack-bot-token", None, "ab")
    text = (
        f"key {KEY}; tokens tok-alice-1 and tok-bob-2; slack xoxb-slack-bot-token; "
        "postgresql://ops:s3cr3t@db:5432/x and https://user:pw@host/v1; about 'ab'"
    )
    assert redact(text) == (
        "key ***; tokens *** and ***; slack ***; postgresql://ops:***@db:5432/x and https://user:***@host/v1; "
        "about 'ab'"  # too short to be a secret worth blanking everywhere
    )
