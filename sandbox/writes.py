"""Write options the apiserver checks before it stores anything: `dryRun` and `fieldValidation`.

`dryRun` accepts only `All` (anything else is a 422 naming the options kind, as upstream). Unknown
fields in a body are dropped as the apiserver's decoder drops them; `fieldValidation=Strict` turns
them into a 400 (`strict decoding error: unknown field "spec.replicass"`), `Warn` (the default since
1.23) reports each in a `Warning` header, `Ignore` drops them silently.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.http import Request
from sandbox.openapi import resolve_v2, schema_for
from sandbox.resources import ResourceType
from sandbox.schema import prune
from sandbox.store import Store

__all__ = ["check_dry_run", "drop_unknown_fields"]

_OPTIONS = {
    "create": "CreateOptions",
    "update": "UpdateOptions",
    "patch": "PatchOptions",
    "delete": "DeleteOptions",
}
_MODES = ("Ignore", "Warn", "Strict")


def check_dry_run(req: Request, verb: str) -> None:
    """422 for a dryRun value other than All, before anything is written."""
    values = req.values("dryRun")
    bad = [v for v in values if v != "All"]
    if not bad or verb not in _OPTIONS:
        return
    shown = "[]string{" + ", ".join(json.dumps(v) for v in values) + "}"
    message = f'Unsupported value: {shown}: supported values: "All"'
    kind = _OPTIONS[verb]
    raise ApiError(
        422,
        "Invalid",
        f'{kind}.meta.k8s.io "" is invalid: dryRun: {message}',
        {
            "group": "meta.k8s.io",
            "kind": kind,
            "causes": [{"reason": "FieldValueNotSupported", "message": message, "field": "dryRun"}],
        },
    )


def drop_unknown_fields(
    req: Request, rt: ResourceType, store: Store, body: Any
) -> tuple[list[str], list[str]]:
    """Drop fields the type's schema does not know (in place): their paths, and the `Warning` header
    values to send. A 400 under `fieldValidation=Strict`.
    """
    mode = req.query.get("fieldValidation") or "Warn"
    if mode not in _MODES:
        raise bad_request(
            f'fieldValidation parameter unsupported: "{mode}" (expected one of: Ignore, Warn, Strict)'
        )
    if not isinstance(body, dict):
        return [], []
    schema = store.schemas.get(f"{rt.group}/{rt.version}/{rt.kind}") if rt.custom else schema_for(rt)
    if schema is None:
        return [], []
    if rt.custom:
        schema = {
            **schema,
            "properties": {
                **(schema.get("properties") or {}),
                "apiVersion": {},
                "kind": {},
                "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
            },
        }
    unknown = prune(body, schema, resolve_v2)
    if mode == "Strict" and unknown:
        fields = ", ".join(f'unknown field "{p}"' for p in unknown)
        prefix = (
            f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
            if req.method != "PATCH"
            else ""
        )
        raise bad_request(f"{prefix}strict decoding error: {fields}")
    if mode == "Ignore":
        return unknown, []
    return unknown, [f'299 - "unknown field \\"{p}\\""' for p in unknown]
