"""`ScriptedOpenAIServer`: a test double of an OpenAI-compatible chat server that plays back model quirks.

It speaks the real protocol on 127.0.0.1 (`POST /v1/chat/completions`, JSON or server-sent-event
streams), so opsgraph's real client path runs unchanged; a script decides each reply. Like llama.cpp's and
vLLM's strict chat templates it answers 400 to a message list they would reject (two assistant messages
at the end, a tool result without its call, roles that do not alternate), and it records every request so
a test can assert what opsgraph sent. It stands in for a real model where the quirk under test (a
truncated argument string, a 500, a loop of calls) cannot be produced on demand by a real one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "RecordingProxy",
    "Reply",
    "ScriptedOpenAIServer",
    "is_routing",
    "scripted_settings",
    "strict_template_problems",
    "tool_call",
]


@dataclass
class Reply:
    """One scripted answer: text, tool calls (arguments as raw text), or an HTTP error."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    status: int = 200
    error: str = ""


def is_routing(body: dict[str, Any]) -> bool:
    """Whether a request body is the router's decision (its JSON-schema output is a RouteDecision)."""
    return (body.get("response_format") or {}).get("json_schema", {}).get("name") == "RouteDecision"


def scripted_settings(server: ScriptedOpenAIServer, **overrides: Any) -> Any:
    """Settings that send opsgraph's model calls to `server` as `json` tool steps, with an in-memory
    checkpointer; `overrides` are further settings."""
    from opsgraph.settings import Settings

    fields: dict[str, Any] = {
        "model": "scripted-model",
        "base_url": server.base_url,
        "checkpoint_url": "memory",
        "tool_calls": "json",
    }
    return Settings(**{**fields, **overrides})


def tool_call(name: str, arguments: str | dict[str, Any], call_id: str = "") -> dict[str, Any]:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"name": name, "arguments": raw, "id": call_id or f"call_{name}_{int(time.time() * 1e6) % 10**9}"}


def strict_template_problems(messages: list[dict[str, Any]]) -> list[str]:
    """What a strict chat template (llama.cpp's, vLLM's Llama/Mistral) would reject in `messages`."""
    problems: list[str] = []
    roles = [m.get("role") for m in messages]
    if "system" in roles[1:]:
        problems.append("System message must be at the beginning")
    body = [m for m in messages if m.get("role") != "system"]
    if not body or body[0].get("role") != "user":
        problems.append("Conversation must start with a user message")
    open_calls: set[str] = set()
    previous = ""
    for m in body:
        role = m.get("role")
        if role == "tool":
            if m.get("tool_call_id") not in open_calls:
                problems.append("A tool message must answer a tool call of the assistant message before it")
            open_calls.discard(str(m.get("tool_call_id")))
        elif role == previous and role in ("user", "assistant"):
            problems.append("Conversation roles must alternate user/assistant/user/assistant")
        if role == "assistant":
            open_calls = {str(c.get("id")) for c in m.get("tool_calls") or []}
        previous = str(role)
    if len(body) >= 2 and body[-1].get("role") == "assistant" and body[-2].get("role") == "assistant":
        problems.append("Cannot have 2 or more assistant messages at the end of the list")
    elif body and body[-1].get("role") == "assistant" and not body[-1].get("tool_calls"):
        problems.append("The last message is an assistant message: the model would continue it")
    return problems


Script = Callable[[dict[str, Any]], Reply]


class ScriptedOpenAIServer:
    """Serve `script(request) -> Reply` on 127.0.0.1; `requests` holds every request body received."""

    def __init__(self, script: Script, *, strict: bool = True) -> None:
        self.script, self.strict = script, strict
        self.requests: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append(body)
                problems = strict_template_problems(body.get("messages", [])) if server.strict else []
                reply = Reply(status=400, error=problems[0]) if problems else server.script(body)
                if problems:
                    server.rejected.append(problems[0])
                if reply.status != 200:
                    self._send(reply.status, {"error": {"code": reply.status, "message": reply.error}})
                elif body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._send(200, _completion(body, reply))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(body, reply):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _finish(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in reply.tool_calls
        ]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": _finish(reply)}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _chunks(body: dict[str, Any], reply: Reply) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    size = 8 if len(reply.content) < 4_000 else 4_096  # token-sized pieces; a huge answer in larger ones
    for start in range(0, len(reply.content), size):
        yield chunk({"content": reply.content[start : start + size]})
    for index, call in enumerate(reply.tool_calls):
        head = {"index": index, "id": call["id"], "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call["name"], "arguments": ""}}]})
        raw = call["arguments"]
        for start in range(0, len(raw), 7):  # arguments arrive in fragments, as real servers send them
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": raw[start : start + 7]}}]})
    yield chunk({}, _finish(reply))


def _timings(body: str) -> dict[str, Any] | None:
    """The last `timings` object of a JSON answer or a server-sent-event stream."""
    texts = [line.removeprefix("data: ") for line in body.splitlines() if line.startswith("data: {")]
    for text in reversed(texts or [body]):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("timings"), dict):
            return dict(value["timings"])
    return None


class RecordingProxy:
    """A pass-through proxy in front of a real OpenAI-compatible server that records each request and the
    status of its answer, so a test can assert what opsgraph sent to a real model and how it was received.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.timings: list[dict[str, Any] | None] = []
        """llama.cpp's `timings` of each answer (`prompt_n` processed, `cache_n` served from its prompt
        cache, `predicted_n` written), None where the server sent none; in the order of `requests`."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                import httpx

                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.requests.append(json.loads(raw or b"{}"))
                path = self.path.removeprefix("/v1")
                with (
                    httpx.Client(timeout=600) as client,
                    client.stream(
                        "POST",
                        proxy.upstream + path,
                        content=raw,
                        headers={"Content-Type": "application/json"},
                    ) as response,
                ):
                    proxy.statuses.append(response.status_code)
                    self.send_response(response.status_code)
                    self.send_header("Content-Type", response.headers.get("content-type", "application/json"))
                    self.end_headers()
                    body = bytearray()
                    for block in response.iter_raw():
                        body.extend(block)
                        self.wfile.write(block)
                        self.wfile.flush()
                    proxy.timings.append(_timings(body.decode(errors="replace")))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
