"""The OpenAPI document, completed with the schema of the events the streaming endpoints send."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from agents.events import Event

__all__ = ["install_openapi"]

_ITEM = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "description": "The event's `type`: route, token, tool_call, ..."},
        "id": {"type": "string", "description": "1, 2, 3, ... within one stream."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/Event"},
        },
    },
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        events = TypeAdapter(Event).json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(events.pop("$defs", {}))
        components["Event"] = events
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if "text/event-stream" in content:
                        content["text/event-stream"] = {"itemSchema": _ITEM}
                    if code >= "400" and "application/problem+json" in content:
                        content.pop("application/json", None)  # errors are only ever problem objects
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
