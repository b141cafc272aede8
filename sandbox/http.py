"""The request and response the API layer speaks, independent of the HTTP server underneath."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml  # type: ignore[import-untyped]

from sandbox.errors import bad_request

__all__ = ["Request", "Response", "json_response"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            lowered = {k.lower(): v for k, v in self.headers.items()}
            value = lowered.get(name.lower())
        return value or ""

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")

    def json(self) -> Any:
        if not self.body:
            return None
        content_type = self.header("Content-Type")
        try:
            if "yaml" in content_type:
                return yaml.safe_load(self.body)
            return json.loads(self.body)
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"the request body is not valid JSON: {exc}") from exc

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    stream: Iterator[bytes] | None = None


def json_response(status: int, body: Any) -> Response:
    return Response(status, json.dumps(body, separators=(",", ":")).encode())
