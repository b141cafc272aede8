"""What a request must pass before the server reads its body: the Host (without tokens), the token, the size.

Real HTTP over sockets (uvicorn in a thread): the guard's point is what happens on the wire before a body
arrives, which an in-process test client cannot show.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from server.limits import loopback_host
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import ALICE, TOKENS
from tests.server.live import live_server


def _serve(settings: Settings) -> Iterator[str]:
    with (
        Runtime(settings, tools=RecordingCluster().tools()) as runtime,
        live_server(create_app(runtime)) as url,
    ):
        yield url


@pytest.fixture
def open_url() -> Iterator[str]:
    """No tokens: every request acts as the local admin."""
    yield from _serve(Settings(checkpoint_url="memory", user="carol"))


@pytest.fixture
def token_url() -> Iterator[str]:
    yield from _serve(Settings(checkpoint_url="memory", api_tokens=TOKENS, max_body_bytes=4096))


def _raw(url: str, head: str, body: bytes = b"", wait: float = 5.0) -> tuple[float, bytes]:
    """Send a request's head (and maybe part of its body) on a socket; the answer and how long it took."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as sock:
        start = time.monotonic()
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return time.monotonic() - start, answer


def test_without_tokens_only_loopback_host_names_are_served(open_url: str) -> None:
    port = urlsplit(open_url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}", "127.0.0.2"):
        response = httpx.get(open_url + "/v1/me", headers={"Host": host})
        assert response.status_code == 200, host
    for host in (f"evil.example:{port}", "evil.example", "localhost.evil.example", "10.0.0.1", ""):
        for path in ("/v1/me", "/", "/v1/threads"):  # the page itself too: it is what a rebound site loads
            response = httpx.get(open_url + path, headers={"Host": host})
            assert response.status_code == 400, (host, path)
            assert response.headers["content-type"] == "application/problem+json"
            assert "answers only to localhost" in response.json()["detail"]
    posted = httpx.post(
        open_url + "/v1/threads", json={"title": "x"}, headers={"Host": f"rebound.example:{port}"}
    )
    assert posted.status_code == 400


def test_with_tokens_any_host_name_is_served(token_url: str) -> None:
    response = httpx.get(token_url + "/v1/me", headers={**ALICE, "Host": "opsgraph.example.com"})
    assert response.status_code == 200


def test_loopback_host_names() -> None:
    assert all(map(loopback_host, ("localhost:80", "127.0.0.1", "127.8.9.1:1", "[::1]:8080", "LOCALHOST")))
    assert not any(map(loopback_host, ("localhost.example", "0.0.0.0", "[::]:80", "192.168.1.2", "::1x")))


def test_the_token_is_checked_before_the_body_is_read(token_url: str) -> None:
    """A request announcing a 1 MB body that never comes is answered 401 at once, unread."""
    head = "POST /v1/threads HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 3000\n"
    took, answer = _raw(token_url, head, body=b'{"title": ')
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert took < 3, "the server waited for the body before refusing"
    # and a malformed body without a token is a 401 too, not a 422 from parsing it
    response = httpx.post(
        token_url + "/v1/threads", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


def test_a_body_over_the_limit_is_413_whether_announced_or_not(token_url: str) -> None:
    big = b'{"title": "' + b"x" * 5000 + b'"}'
    announced = httpx.post(
        token_url + "/v1/threads", content=big, headers={**ALICE, "Content-Type": "application/json"}
    )
    assert announced.status_code == 413
    assert "larger than 4096 bytes (OPSGRAPH_MAX_BODY_BYTES)" in announced.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    streamed = httpx.post(
        token_url + "/v1/threads", content=chunks(), headers={**ALICE, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    took, answer = _raw(
        token_url,
        "POST /v1/threads HTTP/1.1\nHost: x\nAuthorization: Bearer alice-token\nContent-Length: 9999999\n",
    )
    assert answer.startswith(b"HTTP/1.1 413") and took < 3
    small = httpx.post(token_url + "/v1/threads", json={"title": "fits"}, headers=ALICE)
    assert small.status_code == 201 and small.json()["title"] == "fits"
