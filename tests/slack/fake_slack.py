"""FakeSlackApi: a local stand-in for the Slack Web API (the only test double for Slack).

It answers the methods the bot calls (auth.test, chat.postMessage, chat.update, chat.postEphemeral) the
way Slack does, and records every call so tests can assert what the bot posted. Incoming requests to the
bot are real: signed with the signing secret exactly as Slack signs them (`sign`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

__all__ = ["FakeSlackApi", "SlackCall", "sign"]

SlackCall = tuple[str, dict[str, Any]]


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: v0 HMAC-SHA256 over "v0:<timestamp>:<raw body>"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class FakeSlackApi:
    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self._lock = threading.Condition()
        self._ts = 1_700_000_000
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                body = api._answer(self.path.rsplit("/", 1)[-1], params)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((method, params))
            self._ts += 1
            self._lock.notify_all()
            ts = f"{self._ts}.000100"
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "opsgraph"}
        if method in ("chat.postMessage", "chat.update"):
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": params.get("ts") or ts,
                "message": params,
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        return {"ok": False, "error": "unknown_method"}

    def wait_for(
        self, predicate: Callable[[list[SlackCall]], bool], timeout: float = 10.0
    ) -> list[SlackCall]:
        """Block until the recorded calls satisfy `predicate`; fail with what was recorded otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: predicate(self.calls), timeout):
                raise AssertionError(f"Slack API calls never matched; got {self.calls}")
            return list(self.calls)

    def posted(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def __enter__(self) -> FakeSlackApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
