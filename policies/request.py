"""The request model (principal, action, resource, context keys) and request-file parsing.

A request file may hold one request object, a list of them, a CloudFix-format suite
(`{"Requests": [...]}`, where a request's `Condition` block carries its context values as
operator -> key -> value), or JSON Lines. Field names are matched case-insensitively.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.parse import PolicyParseError, load_json

__all__ = ["ContextValue", "Request", "parse_request", "parse_requests"]

ContextValue = str | list[str]


class Request(BaseModel):
    """One authorization request. A list context value is a multivalued key (e.g. `aws:TagKeys`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str
    resource: str = "*"
    principal: str | None = None
    context: dict[str, ContextValue] = Field(default_factory=dict)
    resource_account: str | None = None
    """Account that owns the resource when its ARN does not say (S3); decides same vs cross account."""
    id: str | None = None
    expected: Literal["Allow", "Deny"] | None = None

    def context_value(self, key: str) -> ContextValue | None:
        """The value of a context key; key names are case-insensitive."""
        lowered = key.lower()
        for name, value in self.context.items():
            if name.lower() == lowered:
                return value
        return None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude_defaults=True) | {
            "action": self.action,
            "resource": self.resource,
        }


def _value(raw: Any, pointer: str) -> ContextValue:
    if isinstance(raw, list):
        return [str(_value(v, f"{pointer}/{i}")) for i, v in enumerate(raw)]
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float)):
        return json.dumps(raw)
    if isinstance(raw, str):
        return raw
    raise PolicyParseError(
        pointer, f"expected a context value (string, number, boolean or list), got {type(raw).__name__}"
    )


def parse_request(obj: Any, pointer: str = "") -> Request:
    """Build a `Request` from a decoded JSON object in our form or CloudFix's; extra fields are ignored."""
    if not isinstance(obj, dict):
        raise PolicyParseError(pointer, "expected a request object")
    fields = {str(k).lower(): (k, v) for k, v in obj.items()}

    def text(name: str, required: bool = False) -> str | None:
        if name not in fields:
            if required:
                raise PolicyParseError(pointer, f"expected a {name!r} field")
            return None
        key, value = fields[name]
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            raise PolicyParseError(
                f"{pointer}/{key}", f"expected {name} as a string, got {type(value).__name__}"
            )
        return value

    context: dict[str, ContextValue] = {}
    if "context" in fields:
        key, block = fields["context"]
        if not isinstance(block, dict):
            raise PolicyParseError(f"{pointer}/{key}", "expected an object of context key -> value")
        for name, raw in block.items():
            context[name] = _value(raw, f"{pointer}/{key}/{name}")
    if "condition" in fields:  # CloudFix: operator -> key -> value
        key, block = fields["condition"]
        if not isinstance(block, dict):
            raise PolicyParseError(f"{pointer}/{key}", "expected an object of operator -> {key: value}")
        for op, inner in block.items():
            if not isinstance(inner, dict):
                # a context key with its value, as small models write it ({"aws:SourceIp": "10.0.0.1"}):
                # an operator always maps to an object, so the two forms cannot be confused
                context[op] = _value(inner, f"{pointer}/{key}/{op}")
                continue
            for name, raw in inner.items():
                context[name] = _value(raw, f"{pointer}/{key}/{op}/{name}")
    expected = text("expected") or text("effect")
    if expected is not None and expected not in ("Allow", "Deny"):
        expected = "Allow" if expected == "Allowed" else "Deny"
    rid = fields.get("id", (None, None))[1]
    return Request(
        action=text("action", required=True) or "",
        resource=text("resource") or "*",
        principal=text("principal"),
        context=context,
        resource_account=text("resource_account") or text("resourceaccount"),
        id=None if rid is None else str(rid),
        expected=expected,  # type: ignore[arg-type]
    )


def parse_requests(text: str, *, source: str | None = None) -> list[Request]:
    """Parse a request file: one request, a list, a CloudFix suite `{"Requests": [...]}`, or JSON Lines."""
    stripped = text.strip()
    try:
        doc = json.loads(stripped)
    except RecursionError:
        raise PolicyParseError("", "JSON nested too deeply to be a request", source=source) from None
    except json.JSONDecodeError:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) < 2:
            load_json(stripped, source)  # raises with line and column
        out = []
        for n, line in enumerate(lines, 1):
            try:
                out.append(parse_request(load_json(line, source), f"line {n}"))
            except PolicyParseError as exc:
                raise PolicyParseError(f"line {n}{exc.pointer}", exc.reason, source=source) from None
        return out
    if isinstance(doc, dict) and isinstance(doc.get("Requests"), list):
        return [parse_request(r, f"/Requests/{i}") for i, r in enumerate(doc["Requests"])]
    if isinstance(doc, list):
        return [parse_request(r, f"/{i}") for i, r in enumerate(doc)]
    return [parse_request(doc)]
