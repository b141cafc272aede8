"""OpenAPI schemas applied to objects: unknown fields (for `fieldValidation` and pruning), defaults,
value validation of custom resources, and the structural-schema rules of CustomResourceDefinitions.

Messages follow the apiserver's: `spec.size: Invalid value: "string": spec.size in body must be of
type integer: "string"`, `spec.color: Unsupported value: "pink": supported values: "red", "blue"`,
`spec.size: Required value`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["Cause", "apply_defaults", "prune", "structural_errors", "unknown_fields", "validate_value"]

Cause = tuple[str, str, str]
"""(field, reason, message) as in a 422's details.causes."""
Resolve = Callable[[str], dict[str, Any]]
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_INT_OR_STRING = "x-kubernetes-int-or-string"


def _none(_ref: str) -> dict[str, Any]:
    return {}


def _deref(schema: dict[str, Any], resolve: Resolve) -> dict[str, Any]:
    for _ in range(20):
        if "$ref" in schema:
            schema = {**resolve(schema["$ref"]), **{k: v for k, v in schema.items() if k != "$ref"}}
        elif len(schema.get("allOf") or []) == 1:
            schema = {
                **_deref(schema["allOf"][0], resolve),
                **{k: v for k, v in schema.items() if k != "allOf"},
            }
        else:
            break
    return schema


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk_unknown(value: Any, schema: dict[str, Any], resolve: Resolve, path: str, drop: bool) -> list[str]:
    schema = _deref(schema, resolve)
    found: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props is None and not isinstance(extra, dict):
            return found  # a leaf, a free-form object or preserved fields
        for key in list(value):
            sub = (props or {}).get(key)
            if sub is None and isinstance(extra, dict) and props is None:
                sub = extra
            if sub is not None:
                found += _walk_unknown(value[key], sub, resolve, _join(path, key), drop)
            elif not schema.get(_PRESERVE) and not key.startswith("$"):
                found.append(_join(path, key))
                if drop:
                    del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += _walk_unknown(item, schema["items"], resolve, f"{path}[{i}]", drop)
    return found


def unknown_fields(value: Any, schema: dict[str, Any], resolve: Resolve = _none) -> list[str]:
    """Dotted paths of fields the schema does not know (`spec.replicass`, `spec.containers[0].imagee`)."""
    return _walk_unknown(copy.deepcopy(value), schema, resolve, "", drop=False)


def prune(value: Any, schema: dict[str, Any], resolve: Resolve = _none) -> list[str]:
    """Drop unknown fields in place, as the apiserver does when decoding; the paths dropped."""
    return _walk_unknown(value, schema, resolve, "", drop=True)


def apply_defaults(value: Any, schema: dict[str, Any]) -> None:
    """Fill in `default`s of missing properties, in place (a default object is defaulted in turn)."""
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                apply_defaults(value[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not schema.get("properties"):
            for item in value.values():
                apply_defaults(item, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_ok(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    actual = _type_name(value)
    if value is None:
        return bool(schema.get("nullable"))
    if schema.get(_INT_OR_STRING):
        return actual in ("integer", "string")
    if not kind:
        return True
    return actual == kind or (kind == "number" and actual == "integer")


def _shown(value: Any) -> str:
    return (
        json.dumps(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def validate_value(value: Any, schema: dict[str, Any], path: str = "") -> list[Cause]:
    """The apiserver's OpenAPI validation of a custom resource (types, required, enum, bounds, patterns)."""
    if not _type_ok(value, schema):
        actual = _type_name(value)
        return [
            (
                path,
                "FieldValueInvalid" if value is not None else "FieldValueRequired",
                f'Invalid value: "{actual}": {path} in body must be of type {schema.get("type")}: "{actual}"',
            )
        ]
    causes: list[Cause] = []
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(_shown(v) for v in schema["enum"])
        causes.append(
            (
                path,
                "FieldValueNotSupported",
                f"Unsupported value: {_shown(value)}: supported values: {allowed}",
            )
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            causes.append(
                (
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {value}: {path} in body should be greater than or equal to {schema['minimum']}",
                )
            )
        if "maximum" in schema and value > schema["maximum"]:
            causes.append(
                (
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {value}: {path} in body should be less than or equal to {schema['maximum']}",
                )
            )
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            causes.append(
                (
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {json.dumps(value)}: {path} in body should match '{schema['pattern']}'",
                )
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            causes.append(
                (path, "FieldValueTooLong", f"Too long: may not be more than {schema['maxLength']} bytes")
            )
        if "minLength" in schema and len(value) < schema["minLength"]:
            causes.append(
                (
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {json.dumps(value)}: {path} in body should be at least {schema['minLength']} chars long",
                )
            )
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            causes.append(
                (
                    path,
                    "FieldValueTooMany",
                    f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                )
            )
        if "minItems" in schema and len(value) < schema["minItems"]:
            causes.append(
                (
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items",
                )
            )
        for i, item in enumerate(value):
            if isinstance(schema.get("items"), dict):
                causes += validate_value(item, schema["items"], f"{path}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in value:
                causes.append((_join(path, key), "FieldValueRequired", "Required value"))
        for key, item in value.items():
            if key in props:
                causes += validate_value(item, props[key], _join(path, key))
            elif isinstance(schema.get("additionalProperties"), dict):
                causes += validate_value(item, schema["additionalProperties"], _join(path, key))
    return causes


def structural_errors(schema: Any, path: str, root: bool = True) -> list[Cause]:
    """Why an openAPIV3Schema is not structural: every field needs a `type` (unless it preserves unknown
    fields or is int-or-string), `properties` and `additionalProperties` exclude each other, and the
    root must be an object."""
    if not isinstance(schema, dict):
        return [(path, "FieldValueInvalid", "Invalid value: must be an object")]
    causes: list[Cause] = []
    if root and schema.get("type") != "object":
        causes.append(
            (
                f"{path}.type",
                "FieldValueInvalid",
                'Invalid value: "' + str(schema.get("type", "")) + '": must be object at the root',
            )
        )
    elif not schema.get("type") and not schema.get(_PRESERVE) and not schema.get(_INT_OR_STRING):
        causes.append(
            (
                f"{path}.type",
                "FieldValueRequired",
                "Required value: must not be empty for specified object fields",
            )
        )
    if "properties" in schema and isinstance(schema.get("additionalProperties"), dict):
        causes.append(
            (
                f"{path}.additionalProperties",
                "FieldValueForbidden",
                "Forbidden: additionalProperties and properties are mutual exclusive",
            )
        )
    for key, sub in (schema.get("properties") or {}).items():
        if (
            path.endswith("openAPIV3Schema")
            and key == "metadata"
            and isinstance(sub, dict)
            and set(sub.get("properties") or {}) - {"name", "generateName"}
        ):
            causes.append(
                (
                    f"{path}.properties[metadata]",
                    "FieldValueForbidden",
                    "Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
                )
            )
            continue
        causes += structural_errors(sub, f"{path}.properties[{key}]", root=False)
    if isinstance(schema.get("items"), dict):
        causes += structural_errors(schema["items"], f"{path}.items", root=False)
    if isinstance(schema.get("additionalProperties"), dict):
        causes += structural_errors(
            schema["additionalProperties"], f"{path}.additionalProperties", root=False
        )
    return causes
