"""`/openapi/v2` (JSON) and `/openapi/v3` from the Kubernetes 1.31 definitions, plus the CRDs' schemas.

The definitions (`sandbox/data/kubernetes-openapi-v1.31.json.gz`, see its ATTRIBUTION.md) load on
first use, so start-up does not pay for them. Each write operation declares the `dryRun`,
`fieldManager` and `fieldValidation` query parameters, as the apiserver's do: kubectl reads them to
choose server-side field validation. `kubectl explain` reads the v3 documents.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import json
from collections.abc import Iterable
from importlib import resources as files
from typing import Any

from sandbox.resources import ResourceType

__all__ = [
    "definition_name",
    "definitions",
    "resolve_v2",
    "schema_for",
    "v2_document",
    "v3_document",
    "v3_index",
]

_DATA = "kubernetes-openapi-v1.31.json.gz"
_TITLE = {"title": "Kubernetes", "version": "v1.31.0"}
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_ACTIONS = (
    ("get", "list", "list"),
    ("post", "create", "create"),
    ("delete", "deletecollection", "deletecollection"),
)
_ITEM_ACTIONS = (
    ("get", "get", "read"),
    ("put", "update", "replace"),
    ("patch", "patch", "patch"),
    ("delete", "delete", "delete"),
)


@functools.cache
def definitions() -> dict[str, Any]:
    """The built-in definitions by name (`io.k8s.api.apps.v1.Deployment`), loaded once."""
    raw = files.files("sandbox").joinpath("data", _DATA).read_bytes()
    loaded: dict[str, Any] = json.loads(gzip.decompress(raw))
    return loaded


@functools.cache
def _by_gvk() -> dict[tuple[str, str, str], str]:
    out = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            out[(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))] = name
    return out


def _custom_name(rt: ResourceType) -> str:
    return ".".join([*reversed(rt.group.split(".")), rt.version, rt.kind])


def definition_name(rt: ResourceType) -> str | None:
    if rt.custom:
        return _custom_name(rt)
    return _by_gvk().get((rt.group, rt.version, rt.kind))


def resolve_v2(ref: str) -> dict[str, Any]:
    found: dict[str, Any] = definitions().get(ref.rsplit("/", 1)[-1], {})
    return found


def _custom_schema(rt: ResourceType, schema: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    props = out.setdefault("properties", {})
    props["apiVersion"] = {
        "type": "string",
        "description": definitions()["io.k8s.api.apps.v1.Deployment"]["properties"]["apiVersion"][
            "description"
        ],
    }
    props["kind"] = {
        "type": "string",
        "description": definitions()["io.k8s.api.apps.v1.Deployment"]["properties"]["kind"]["description"],
    }
    props["metadata"] = {
        "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    }
    out["x-kubernetes-group-version-kind"] = [{"group": rt.group, "kind": rt.kind, "version": rt.version}]
    return out


def schema_for(
    rt: ResourceType, custom_schemas: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The v2 schema of a type (`$ref`s into `definitions`), built-in or custom."""
    name = definition_name(rt)
    if rt.custom:
        raw = (custom_schemas or {}).get(name or "")
        return _custom_schema(rt, raw) if raw is not None else None
    return definitions().get(name) if name else None


def _prefix(rt: ResourceType) -> str:
    return f"/api/{rt.version}" if not rt.group else f"/apis/{rt.group}/{rt.version}"


def _operations(rt: ResourceType, v3: bool) -> dict[str, dict[str, Any]]:
    """Path → PathItem for one type: the collection and the item, with their query parameters."""
    name = definition_name(rt) or ""
    ref = f"#/components/schemas/{name}" if v3 else f"#/definitions/{name}"
    gvk = {"group": rt.group, "kind": rt.kind, "version": rt.version}
    scope = "/namespaces/{namespace}" if rt.namespaced else ""
    base = f"{_prefix(rt)}{scope}/{rt.plural}"
    ident = "".join(p.capitalize() for p in (rt.group.split(".")[0] or "core", rt.version)) + (
        "Namespaced" if rt.namespaced else ""
    )

    def op(method: str, action: str, verb: str) -> dict[str, Any]:
        params = (
            [
                {
                    "name": p,
                    "in": "query",
                    "uniqueItems": True,
                    **({"schema": {"type": "string"}} if v3 else {"type": "string"}),
                }
                for p in _WRITE_PARAMS
            ]
            if method in ("post", "put", "patch")
            else []
        )
        body = (
            {"content": {"application/json": {"schema": {"$ref": ref}}}} if v3 else {"schema": {"$ref": ref}}
        )
        out: dict[str, Any] = {
            "operationId": f"{verb}{ident}{rt.kind}",
            "parameters": params,
            "responses": {"200": {"description": "OK", **body}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        }
        if method in ("post", "put"):
            if v3:
                out["requestBody"] = body
            else:
                out["parameters"].append(
                    {"name": "body", "in": "body", "required": True, "schema": {"$ref": ref}}
                )
        return out

    list_ops = {m: op(m, a, v) for m, a, v in _ACTIONS if a in rt.verbs}
    item_ops = {m: op(m, a, v) for m, a, v in _ITEM_ACTIONS if a in rt.verbs}
    return {base: list_ops, f"{base}/{{name}}": item_ops}


def v2_document(types: Iterable[ResourceType], custom_schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    defs = dict(definitions())
    paths: dict[str, Any] = {}
    for rt in types:
        if rt.persisted and definition_name(rt):
            paths.update(_operations(rt, v3=False))
            if rt.custom:
                schema = schema_for(rt, custom_schemas)
                if schema is not None:
                    defs[_custom_name(rt)] = schema
    return {"swagger": "2.0", "info": _TITLE, "paths": paths, "definitions": defs}


def _to_v3(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                v.replace("#/definitions/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _to_v3(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_to_v3(v) for v in value]
    return value


def _closure(names: list[str], extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        schema = extra.get(name) or definitions().get(name)
        if schema is None:
            continue
        out[name] = _to_v3(schema)
        todo += [r.rsplit("/", 1)[-1] for r in _refs(schema)]
    return out


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _group_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def v3_document(
    group: str, version: str, types: Iterable[ResourceType], custom_schemas: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    members = [rt for rt in types if (rt.group, rt.version) == (group, version) and rt.persisted]
    if not members:
        return None
    paths: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    names = []
    for rt in members:
        name = definition_name(rt)
        schema = schema_for(rt, custom_schemas)
        if not name or schema is None:
            continue
        names.append(name)
        if rt.custom:
            extra[name] = schema
        paths.update(_operations(rt, v3=True))
    names += ["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"]
    return {
        "openapi": "3.0.0",
        "info": _TITLE,
        "paths": paths,
        "components": {"schemas": _closure(names, extra)},
    }


def v3_index(
    group_versions: dict[str, list[str]], types: list[ResourceType], custom_schemas: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """`/openapi/v3`: each group version's document, addressed with a hash of its content."""
    paths = {}
    for group, versions in group_versions.items():
        for version in versions:
            doc = v3_document(group, version, types, custom_schemas)
            if doc is None:
                continue
            digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()
            path = _group_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
