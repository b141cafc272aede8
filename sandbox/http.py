"""The request and response the API layer speaks, independent of the HTTP server underneath."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from io import BufferedIOBase
from typing import Any
from urllib.parse import parse_qsl

import yaml  # type: ignore[import-untyped]

from sandbox.errors import ApiError, bad_request

__all__ = ["Request", "Response", "Upgrade", "json_response"]

Upgrade = Callable[[BufferedIOBase, BufferedIOBase], None]
"""Takes over the connection after a `101 Switching Protocols` (reads from the first, writes to the second)."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw_query: str = ""
    """The query string as sent: `values` reads a parameter given more than once (exec's `command`)."""

    def values(self, name: str) -> list[str]:
        if not self.raw_query:
            return [self.query[name]] if name in self.query else []
        return [v for k, v in parse_qsl(self.raw_query, keep_blank_values=True) if k == name]

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
        if "protobuf" in content_type:
            return self._protobuf()
        if "cbor" in content_type:
            raise _unsupported()
        try:
            if "yaml" in content_type:
                return yaml.safe_load(self.body)
            return json.loads(self.body)
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"the request body is not valid JSON: {exc}") from exc

    def _protobuf(self) -> Any:
        """kubectl 1.32+ sends built-in objects as protobuf (client-go's generated clientset prefers it)."""
        from sandbox import protobuf

        try:
            return protobuf.decode(self.body)
        except protobuf.ProtobufError as exc:
            if "no protobuf definition" in str(exc):
                raise _unsupported() from exc  # custom resources have no protobuf form, as upstream
            raise bad_request(f"the request body is not a valid protobuf message: {exc}") from exc

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"


def _unsupported() -> ApiError:
    """What an apiserver answers for a body in a media type it does not decode."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json-patch+json, "
        "application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml",
    )


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    stream: Iterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    upgrade: Upgrade | None = None


def json_response(status: int, body: Any) -> Response:
    return Response(status, json.dumps(body, separators=(",", ":")).encode())
