"""The patch formats the apiserver accepts: JSON merge patch, strategic merge patch, JSON patch.

Strategic merge patch is implemented for the common cases: lists merged by their Kubernetes merge
key (containers and env by `name`, ports by `containerPort`/`port`, volume mounts by `mountPath`, ...),
`$patch: delete|replace` directives, `$setElementOrder/...` and `$retainKeys` (accepted, ordering kept),
and `null` deleting a key. Lists without a merge key are replaced, as upstream does.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.errors import ApiError, bad_request

__all__ = ["apply_json_patch", "apply_merge_patch", "apply_patch", "apply_strategic_merge_patch"]

_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
_PRIMITIVE_MERGE = {"finalizers"}

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return _MERGE_KEYS.get(field)


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    if field in _PRIMITIVE_MERGE:
        return current + [v for v in patch if v not in current]
    key = _merge_key(field, patch + current)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [_strip_directives(copy.deepcopy(i)) for i in patch]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip_directives(copy.deepcopy(i)) for i in patch if i.get("$patch") != "replace"]
    result = [copy.deepcopy(i) for i in current]
    for item in patch:
        ident = item.get(key)
        index = next((n for n, c in enumerate(result) if isinstance(c, dict) and c.get(key) == ident), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(_strip_directives(copy.deepcopy(item)))
        else:
            result[index] = apply_strategic_merge_patch(result[index], item)
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def apply_strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge patch over plain JSON, with the merge keys of the built-in types."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        elif isinstance(value, dict):
            merged = apply_strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = _strip_directives(copy.deepcopy(value))
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"the JSON pointer {path!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, parts: list[str], path: str) -> Any:
    for part in parts:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise ApiError(422, "Invalid", f"jsonpatch: the path {path!r} does not exist in the object")
    return doc


def _json_op(doc: Any, op: dict[str, Any]) -> Any:
    kind, path = op.get("op"), str(op.get("path", ""))
    parts = _pointer(path)
    if kind == "test":
        if _resolve(doc, parts, path) != op.get("value"):
            raise ApiError(422, "Invalid", f"jsonpatch: test operation for path {path!r} failed")
        return doc
    if kind in ("move", "copy"):
        from_parts = _pointer(str(op.get("from", "")))
        value = copy.deepcopy(_resolve(doc, from_parts, str(op.get("from"))))
        if kind == "move":
            doc = _json_op(doc, {"op": "remove", "path": op["from"]})
        return _json_op(doc, {"op": "add", "path": path, "value": value})
    if not parts:
        return copy.deepcopy(op.get("value")) if kind in ("add", "replace") else None
    parent = _resolve(doc, parts[:-1], path)
    last = parts[-1]
    if kind == "add":
        if isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(op.get("value")))
        else:
            parent[last] = copy.deepcopy(op.get("value"))
    elif kind in ("replace", "remove"):
        _resolve(doc, parts, path)
        if kind == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        else:
            parent[int(last) if isinstance(parent, list) else last] = copy.deepcopy(op.get("value"))
    else:
        raise bad_request(f"jsonpatch: unknown operation {kind!r}")
    return doc


def apply_json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902."""
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict):
            raise bad_request("json patch operations must be objects")
        doc = _json_op(doc, op)
    return doc


def apply_patch(content_type: str, target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply a patch body of the given content type; 415 for formats the server does not speak."""
    media = content_type.split(";", 1)[0].strip()
    if media == JSON_PATCH:
        result = apply_json_patch(target, patch)
    elif media == MERGE_PATCH:
        result = apply_merge_patch(target, patch)
    elif media in (STRATEGIC_PATCH, APPLY_PATCH):
        result = apply_strategic_merge_patch(target, patch)
    else:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - "
            f"accepted media types include: {JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_PATCH}",
        )
    if not isinstance(result, dict):
        raise bad_request("the patch must leave an object")
    return result
