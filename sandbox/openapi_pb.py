"""OpenAPI v2 definitions in gnostic's protobuf encoding (`openapi_v2.Document.definitions`), which kubectl
before 1.27 reads for `explain` and client-side validation. Field numbers follow gnostic's
OpenAPIv2.proto, whose Schema fields number the Swagger 2.0 schema's properties in order."""

from __future__ import annotations

import struct
from typing import Any

import yaml  # type: ignore[import-untyped]

from sandbox.protowire import bytes_field, tag, uvarint

__all__ = ["definitions_message"]

_STRINGS = {"$ref": 1, "format": 2, "title": 3, "description": 4, "pattern": 13, "discriminator": 26}
_DOUBLES = {"multipleOf": 6, "maximum": 7, "minimum": 9}
_INTS = {
    "maxLength": 11,
    "minLength": 12,
    "maxItems": 14,
    "minItems": 15,
    "maxProperties": 17,
    "minProperties": 18,
}
_BOOLS = {"exclusiveMaximum": 8, "exclusiveMinimum": 10, "uniqueItems": 16, "readOnly": 27}


def _any(value: Any) -> bytes:
    """gnostic's Any: the value as YAML text (field 2)."""
    return bytes_field(2, yaml.safe_dump(value, default_flow_style=True).strip().encode())


def _schema(schema: dict[str, Any]) -> bytes:
    out = b""
    for key, value in schema.items():
        if key in _STRINGS and isinstance(value, str):
            out += bytes_field(_STRINGS[key], value.encode())
        elif key in _DOUBLES and isinstance(value, (int, float)):
            out += tag(_DOUBLES[key], 1) + struct.pack("<d", float(value))
        elif key in _INTS and isinstance(value, int):
            out += tag(_INTS[key], 0) + uvarint(value)
        elif key in _BOOLS and value is True:
            out += tag(_BOOLS[key], 0) + b"\x01"
        elif key == "default":
            out += bytes_field(5, _any(value))
        elif key == "required" and isinstance(value, list):
            out += b"".join(bytes_field(19, str(v).encode()) for v in value)
        elif key == "enum" and isinstance(value, list):
            out += b"".join(bytes_field(20, _any(v)) for v in value)
        elif key == "additionalProperties":
            item = (
                bytes_field(1, _schema(value))
                if isinstance(value, dict)
                else tag(2, 0) + (b"\x01" if value else b"\x00")
            )
            out += bytes_field(21, item)
        elif key == "type":
            types = value if isinstance(value, list) else [value]
            out += bytes_field(22, b"".join(bytes_field(1, str(t).encode()) for t in types))
        elif key == "items" and isinstance(value, (dict, list)):
            items = value if isinstance(value, list) else [value]
            out += bytes_field(23, b"".join(bytes_field(1, _schema(i)) for i in items if isinstance(i, dict)))
        elif key == "allOf" and isinstance(value, list):
            out += b"".join(bytes_field(24, _schema(s)) for s in value if isinstance(s, dict))
        elif key == "properties" and isinstance(value, dict):
            named = b"".join(
                bytes_field(1, bytes_field(1, n.encode()) + bytes_field(2, _schema(s)))
                for n, s in value.items()
                if isinstance(s, dict)
            )
            out += bytes_field(25, named)
        elif key.startswith("x-"):
            out += bytes_field(31, bytes_field(1, key.encode()) + bytes_field(2, _any(value)))
    return out


def definitions_message(definitions: dict[str, dict[str, Any]]) -> bytes:
    """The `Definitions` message: one NamedSchema (name 1, value 2) per definition."""
    return b"".join(
        bytes_field(1, bytes_field(1, name.encode()) + bytes_field(2, _schema(schema)))
        for name, schema in definitions.items()
    )
