"""Repair specifications: what a policy must do, from any mix of request suites, lists, a reference, properties.

A spec file is JSON in one of these forms:

- a CloudFix request suite `{"Requests": [{"id", "Effect": "Allow"|"Deny", "Action", "Resource", "Principal",
  "Condition"}]}` (`Effect` is the decision the policy must give; `Condition` carries context values);
- a plain list of requests (Quacky's repair format): requests without an `Effect` must stay allowed;
- an object with any of `Requests`, `must_allow`, `must_deny` (lists of requests), `reference` (a policy
  the result must be no more permissive than), and `properties`:
  `"least_privilege"` (allow only actions that some must-allow request names), `"no_public_access"`
  (nothing for a principal of an unrelated account), `"no_full_admin"` (no `*` on `*`), or
  `{"forbid": {"Action": ..., "Resource": ...}}` (never allow an action of the first on a resource of the
  second, e.g. `iam:PassRole` on `*`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from policies.catalog import load_catalog
from policies.model import Policy
from policies.parse import PolicyParseError, load_json, parse_policy
from policies.request import Request, parse_request

__all__ = [
    "NAMED_PROPERTIES",
    "Forbid",
    "Property",
    "Spec",
    "SpecRequest",
    "load_spec",
    "parse_spec",
    "request_key",
]

NAMED_PROPERTIES = ("least_privilege", "no_public_access", "no_full_admin")
_SPEC_KEYS = ("Requests", "must_allow", "must_deny", "reference", "properties")


class SpecRequest(BaseModel):
    """A request with the decision the policy must give, and where in the spec it was written."""

    model_config = ConfigDict(frozen=True)

    request: Request
    expect: Literal["Allow", "Deny"]
    pointer: str

    @property
    def label(self) -> str:
        return self.request.id or self.pointer

    def describe(self) -> str:
        r = self.request
        who = f" by {r.principal}" if r.principal else ""
        ctx = f" with {json.dumps(r.context, sort_keys=True)}" if r.context else ""
        return f"{self.label}: {r.action} on {r.resource}{who}{ctx} must be {'allowed' if self.expect == 'Allow' else 'denied'}"


class Forbid(BaseModel):
    """A request space the policy must never allow: actions x resources (any principal, any context)."""

    model_config = ConfigDict(frozen=True)

    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)


class Property(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["least_privilege", "no_public_access", "no_full_admin", "forbid"]
    forbid: Forbid | None = None
    pointer: str = ""

    def describe(self) -> str:
        if self.forbid is not None:
            return f"never allow {', '.join(self.forbid.actions)} on {', '.join(self.forbid.resources)}"
        return {
            "least_privilege": "allow only the actions that must-allow requests name",
            "no_public_access": "allow nothing to a principal of an unrelated account",
            "no_full_admin": "never allow every action on every resource",
        }[self.kind]


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True)

    requests: tuple[SpecRequest, ...] = ()
    reference: Policy | None = None
    properties: tuple[Property, ...] = ()
    source: str | None = None

    @property
    def must_allow(self) -> tuple[SpecRequest, ...]:
        return tuple(r for r in self.requests if r.expect == "Allow")

    @property
    def must_deny(self) -> tuple[SpecRequest, ...]:
        return tuple(r for r in self.requests if r.expect == "Deny")

    def has(self, kind: str) -> bool:
        return any(p.kind == kind for p in self.properties)

    def unknown_actions(self) -> list[str]:
        """Spec requests naming an action the AWS catalog does not know (reported, not fatal)."""
        catalog = load_catalog()
        out = []
        for r in self.requests:
            if catalog.action_info(r.request.action) is None:
                out.append(f"{r.pointer}: unknown action {r.request.action!r}")
        return out

    def with_requests(self, extra: list[SpecRequest]) -> Spec:
        return self.model_copy(update={"requests": self.requests + tuple(extra)})


def request_key(r: Request) -> tuple[str, str, str, str]:
    """Identity of a request for conflict checks: action (case-insensitive), resource, principal, context."""
    return (r.action.lower(), r.resource, r.principal or "", json.dumps(r.context, sort_keys=True))


def _requests(raw: Any, pointer: str, default: Literal["Allow", "Deny"] | None) -> list[SpecRequest]:
    if not isinstance(raw, list):
        raise PolicyParseError(pointer, "expected a list of requests")
    out = []
    for i, item in enumerate(raw):
        where = f"{pointer}/{i}"
        request = parse_request(item, where)
        expect = default if default is not None else (request.expected or "Allow")
        if default is not None and request.expected is not None and request.expected != default:
            raise PolicyParseError(
                where, f"a request under {pointer} cannot have Effect {request.expected!r}"
            )
        out.append(SpecRequest(request=request, expect=expect, pointer=where))
    return out


def _property(raw: Any, pointer: str) -> Property:
    if isinstance(raw, str):
        if raw not in NAMED_PROPERTIES:
            raise PolicyParseError(
                pointer,
                f'unknown property {raw!r}; expected one of {", ".join(NAMED_PROPERTIES)} or {{"forbid": ...}}',
            )
        return Property(kind=raw, pointer=pointer)  # type: ignore[arg-type]
    if isinstance(raw, dict) and set(raw) == {"forbid"} and isinstance(raw["forbid"], dict):
        body = raw["forbid"]
        lists: dict[str, tuple[str, ...]] = {}
        for name in ("Action", "Resource"):
            value = body.get(name, "*")
            items = value if isinstance(value, list) else [value]
            if not items or not all(isinstance(v, str) for v in items):
                raise PolicyParseError(
                    f"{pointer}/forbid/{name}", f"expected {name} as a string or a list of strings"
                )
            lists[name] = tuple(items)
        return Property(
            kind="forbid",
            forbid=Forbid(actions=lists["Action"], resources=lists["Resource"]),
            pointer=pointer,
        )
    raise PolicyParseError(
        pointer, 'expected a property name or {"forbid": {"Action": ..., "Resource": ...}}'
    )


def parse_spec(doc: Any, *, source: str | None = None, base: Path | None = None) -> Spec:
    """Build a `Spec` from decoded JSON (any of the forms in the module docstring)."""
    try:
        if isinstance(doc, list):
            return Spec(requests=tuple(_requests(doc, "", None)), source=source)
        if not isinstance(doc, Mapping):
            raise PolicyParseError("", "expected a spec object, a CloudFix suite or a list of requests")
        for key in doc:
            if key not in _SPEC_KEYS:
                raise PolicyParseError(
                    f"/{key}", f"unknown spec element {key!r}; expected one of {', '.join(_SPEC_KEYS)}"
                )
        requests: list[SpecRequest] = []
        if "Requests" in doc:
            requests += _requests(doc["Requests"], "/Requests", None)
        if "must_allow" in doc:
            requests += _requests(doc["must_allow"], "/must_allow", "Allow")
        if "must_deny" in doc:
            requests += _requests(doc["must_deny"], "/must_deny", "Deny")
        reference = None
        if "reference" in doc:
            raw = doc["reference"]
            if isinstance(raw, str):
                path = (base or Path.cwd()) / raw
                reference = parse_policy(path.read_text(), source=str(path))
            else:
                reference = _reference(raw)
        props = doc.get("properties", [])
        if not isinstance(props, list):
            raise PolicyParseError("/properties", "expected a list of properties")
        properties = tuple(_property(p, f"/properties/{i}") for i, p in enumerate(props))
        return Spec(requests=tuple(requests), reference=reference, properties=properties, source=source)
    except PolicyParseError as exc:
        if exc.source is None and source is not None:
            raise PolicyParseError(exc.pointer, exc.reason, source=source) from None
        raise


def _reference(raw: Any) -> Policy:
    try:
        return parse_policy(raw)
    except PolicyParseError as exc:
        raise PolicyParseError(f"/reference{exc.pointer}", exc.reason) from None


def load_spec(path: str | Path, text: str | None = None) -> Spec:
    """Read and parse a spec file; errors name the file and the JSON pointer."""
    p = Path(path)
    body = p.read_text() if text is None else text
    return parse_spec(load_json(body, str(p)), source=str(p), base=p.parent)
