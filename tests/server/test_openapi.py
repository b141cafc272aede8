"""The OpenAPI document is complete: typed bodies, typed responses, problem objects, the stream's events."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Served


def test_every_operation_documents_its_bodies(served: Served) -> None:
    schema: dict[str, Any] = served.client.get("/openapi.json").json()
    operations = {(m.upper(), p): op for p, ops in schema["paths"].items() for m, op in ops.items()}
    assert {
        ("POST", "/v1/threads"), ("GET", "/v1/threads"), ("GET", "/v1/threads/{thread_id}"),
        ("POST", "/v1/threads/{thread_id}/messages"), ("POST", "/v1/threads/{thread_id}/approvals"),
        ("GET", "/v1/threads/{thread_id}/audit"), ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/v1/me"),
    } <= set(operations)  # fmt: skip
    for (method, path), op in operations.items():
        ok = next(code for code in op["responses"] if code.startswith("2"))
        assert op["responses"][ok].get("content"), (method, path)
        if path.startswith("/v1/"):
            assert op["responses"]["404" if "{thread_id}" in path else "401"]["content"][
                "application/problem+json"
            ]["schema"] == {"$ref": "#/components/schemas/Problem"}
    body = operations[("POST", "/v1/threads/{thread_id}/approvals")]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ApprovalIn"}


def test_the_stream_documents_its_event_types(served: Served) -> None:
    schema = served.client.get("/openapi.json").json()
    stream = schema["paths"]["/v1/threads/{thread_id}/messages"]["post"]["responses"]["200"]["content"]
    item = stream["text/event-stream"]["itemSchema"]
    assert item["properties"]["data"]["contentSchema"] == {"$ref": "#/components/schemas/Event"}
    event = schema["components"]["schemas"]["Event"]
    kinds = set(event["discriminator"]["mapping"])
    assert kinds == {
        "start", "route", "token", "tool_call", "tool_result", "interrupt", "final", "error", "cancelled"
    }  # fmt: skip
    for ref in event["discriminator"]["mapping"].values():
        assert ref.removeprefix("#/components/schemas/") in schema["components"]["schemas"]
