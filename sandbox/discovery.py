"""Discovery documents (`/version`, `/api`, `/apis`, group versions) and a minimal OpenAPI v2."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.protowire import bytes_field
from sandbox.resources import RESOURCES, ResourceType, group_versions

__all__ = [
    "VERSION",
    "api_group_list",
    "api_resource_list",
    "api_versions",
    "openapi_v2_protobuf",
    "version_info",
]

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-opsgraph-sandbox",
    "gitCommit": "sandbox",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.22.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def version_info() -> dict[str, Any]:
    return dict(VERSION)


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(custom: Iterable[ResourceType] = ()) -> dict[str, Any]:
    groups = [_group(g, v) for g, v in group_versions(custom).items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str, custom: Iterable[ResourceType] = ()) -> dict[str, Any] | None:
    versions = group_versions(custom).get(name)
    if not name or versions is None:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_resource_list(group: str, version: str, custom: Iterable[ResourceType] = ()) -> dict[str, Any] | None:
    items: list[dict[str, Any]] = []
    for r in (*RESOURCES, *custom):
        if r.group != group or r.version != version:
            continue
        entry: dict[str, Any] = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        items.append(entry)
        for sub in r.subresources:
            verbs = {
                "log": ["get"],
                "binding": ["create"],
                "eviction": ["create"],
                "finalize": ["update"],
                "exec": ["create", "get"],
                "attach": ["create", "get"],
                "portforward": ["create", "get"],
                "token": ["create"],
            }.get(sub, ["get", "patch", "update"])
            kind = {
                "scale": "Scale",
                "binding": "Binding",
                "eviction": "Eviction",
                "exec": "PodExecOptions",
                "attach": "PodAttachOptions",
                "portforward": "PodPortForwardOptions",
                "token": "TokenRequest",
            }.get(sub, r.kind)
            sub_entry: dict[str, Any] = {
                "name": f"{r.plural}/{sub}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind,
                "verbs": verbs,
            }
            if sub == "scale":
                sub_entry.update(group="autoscaling", version="v1")
            if sub == "eviction":
                sub_entry.update(group="policy", version="v1")
            if sub == "token":
                sub_entry.update(group="authentication.k8s.io", version="v1")
            items.append(sub_entry)
    if not items:
        return None
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}


def _path_item(r: ResourceType) -> bytes:
    """A PathItem whose PATCH operation names the kind and takes `dryRun`, which is what kubectl 1.20
    looks for before it sends `--dry-run=server`."""
    gvk = f"group: {r.group!r}\nkind: {r.kind}\nversion: {r.version}\n".encode()
    extension = bytes_field(1, b"x-kubernetes-group-version-kind") + bytes_field(2, bytes_field(2, gvk))
    query = bytes_field(2, b"query") + bytes_field(4, b"dryRun")
    parameter = bytes_field(
        1, bytes_field(2, bytes_field(3, query))
    )  # ParametersItem.parameter.non_body.query
    operation = bytes_field(8, parameter) + bytes_field(13, extension)
    return bytes_field(8, operation)


def openapi_v2_protobuf(custom: Iterable[ResourceType] = (), definitions: bytes = b"") -> bytes:
    """An OpenAPI v2 document in gnostic's protobuf encoding: paths with their kinds, no schemas.

    kubectl downloads `/openapi/v2` as protobuf. Without definitions it skips client-side schema
    validation (the server validates) and uses its built-in types for apply; the paths tell it
    which kinds accept a server-side dry run.
    """
    info = bytes_field(1, b"Kubernetes") + bytes_field(2, VERSION["gitVersion"].encode())
    paths = b""
    for r in (*RESOURCES, *custom):
        if not r.persisted:
            continue
        prefix = f"/api/{r.version}" if not r.group else f"/apis/{r.group}/{r.version}"
        scope = "/namespaces/{namespace}" if r.namespaced else ""
        path = f"{prefix}{scope}/{r.plural}/{{name}}".encode()
        paths += bytes_field(2, bytes_field(1, path) + bytes_field(2, _path_item(r)))
    return bytes_field(1, b"2.0") + bytes_field(2, info) + bytes_field(8, paths) + bytes_field(9, definitions)
