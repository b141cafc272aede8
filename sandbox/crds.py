"""CustomResourceDefinitions (apiextensions.k8s.io/v1): validation of the definition, the controller that
serves its versions, and the write path of custom objects (pruning, defaulting, schema validation).

A CRD's name must be `<plural>.<group>`; exactly one version is the storage version; each served
version needs a structural `openAPIV3Schema`. Once accepted, the CRD is `Established` and its
versions are served at `/apis/<group>/<version>/...` with discovery, tables (additionalPrinterColumns),
watch, the `status` and `scale` subresources, and OpenAPI. Objects are stored in the storage version;
other versions are served by conversion `None` (only apiVersion changes), as upstream's default.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.errors import invalid
from sandbox.resources import ResourceType
from sandbox.schema import Cause, apply_defaults, prune, structural_errors, validate_value
from sandbox.store import Change, Store, now_rfc3339

if TYPE_CHECKING:
    from sandbox.cluster import Cluster

__all__ = ["admit_custom", "custom_schema", "reconcile_crds", "types_of", "validate_definition"]

_CRD = ("CustomResourceDefinition", "customresourcedefinitions.apiextensions.k8s.io")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def _version_causes(spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    versions = spec.get("versions") or []
    if not versions:
        return [
            (
                "spec.versions",
                "FieldValueInvalid",
                "Invalid value: []: must have exactly one version marked as storage version",
            )
        ]
    if sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            (
                "spec.versions",
                "FieldValueInvalid",
                "Invalid value: must have exactly one version marked as storage version",
            )
        )
    for i, version in enumerate(versions):
        path = f"spec.versions[{i}]"
        if not _DNS_LABEL.fullmatch(str(version.get("name", ""))):
            causes.append(
                (
                    f"{path}.name",
                    "FieldValueInvalid",
                    f'Invalid value: "{version.get("name", "")}": a DNS-1035 label is required',
                )
            )
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            causes.append(
                (
                    f"{path}.schema.openAPIV3Schema",
                    "FieldValueRequired",
                    "Required value: schemas are required",
                )
            )
        else:
            causes += structural_errors(schema, f"{path}.schema.openAPIV3Schema")
        scale = (version.get("subresources") or {}).get("scale")
        if scale is not None and not scale.get("specReplicasPath"):
            causes.append(
                (f"{path}.subresources.scale.specReplicasPath", "FieldValueRequired", "Required value")
            )
    return causes


def validate_definition(obj: dict[str, Any]) -> None:
    """422 for a CustomResourceDefinition the apiserver would refuse."""
    spec, name = obj.get("spec") or {}, obj["metadata"].get("name", "")
    names, group = spec.get("names") or {}, spec.get("group", "")
    causes: list[Cause] = []
    if not group or "." not in group:
        causes.append(
            (
                "spec.group",
                "FieldValueInvalid",
                f'Invalid value: "{group}": should be a domain with at least one dot',
            )
        )
    for key in ("plural", "kind"):
        if not names.get(key):
            causes.append((f"spec.names.{key}", "FieldValueRequired", "Required value"))
    if names.get("plural") and group and name != f"{names['plural']}.{group}":
        causes.append(
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            (
                "spec.scope",
                "FieldValueNotSupported",
                f'Unsupported value: "{spec.get("scope", "")}": supported values: "Cluster", "Namespaced"',
            )
        )
    causes += _version_causes(spec)
    if causes:
        raise invalid(_CRD[0], _CRD[1], name, causes)


def _jsonpath(path: str) -> str:
    return path if path.startswith(".") else f".{path}"


def types_of(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CRD serves: one per served version (non-storage ones by conversion)."""
    spec = crd["spec"]
    names = spec["names"]
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    out = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        subs = version.get("subresources") or {}
        scale = subs.get("scale") or {}
        out.append(
            ResourceType(
                spec["group"],
                version["name"],
                names["kind"],
                names["plural"],
                spec.get("scope") == "Namespaced",
                tuple(names.get("shortNames") or ()),
                tuple(s for s in ("status", "scale") if s in subs),
                categories=tuple(names.get("categories") or ()),
                storage_version="" if version["name"] == storage else storage,
                custom=True,
                scale_paths=(
                    (
                        scale["specReplicasPath"],
                        scale.get("statusReplicasPath", ""),
                        scale.get("labelSelectorPath", ""),
                    )
                    if scale
                    else ()
                ),
                columns=tuple(
                    (
                        c["name"],
                        c.get("type", "string"),
                        _jsonpath(c.get("jsonPath", "")),
                        int(c.get("priority", 0)),
                    )
                    for c in version.get("additionalPrinterColumns") or []
                ),
            )
        )
    return out


def custom_schema(store: Store, rt: ResourceType) -> dict[str, Any]:
    schema: dict[str, Any] = store.schemas.get(f"{rt.group}/{rt.version}/{rt.kind}") or {}
    return schema


def admit_custom(store: Store, rt: ResourceType, obj: dict[str, Any]) -> list[str]:
    """Prune unknown fields, apply defaults, then validate against the version's schema (422 on failure).

    Returns the paths pruned, for `fieldValidation`.
    """
    schema = custom_schema(store, rt)
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    pruned = prune(body, schema)
    apply_defaults(body, schema)
    causes = validate_value(
        body,
        {
            **schema,
            "properties": {k: v for k, v in (schema.get("properties") or {}).items() if k != "metadata"},
        },
    )
    if causes:
        raise invalid(rt.kind, f"{rt.plural}.{rt.group}", obj["metadata"].get("name", ""), causes)
    for key in [k for k in obj if k not in ("apiVersion", "kind", "metadata")]:
        del obj[key]
    obj.update(body)
    return pruned


def _established(crd: dict[str, Any]) -> dict[str, Any]:
    spec, old = crd["spec"], crd.get("status") or {}
    now = now_rfc3339()
    previous = {c.get("type"): c for c in old.get("conditions") or []}

    def cond(kind: str, reason: str, message: str) -> dict[str, Any]:
        since = (previous.get(kind) or {}).get("lastTransitionTime", now)
        return {
            "type": kind,
            "status": "True",
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        }

    stored = list(old.get("storedVersions") or [])
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    if storage not in stored:
        stored.append(storage)
    return {
        "conditions": [
            cond("NamesAccepted", "NoConflicts", "no conflicts found"),
            cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": {k: v for k, v in spec["names"].items()},
        "storedVersions": stored,
    }


def reconcile_crds(cluster: Cluster, change: Change) -> None:
    if change.resource.kind != "CustomResourceDefinition":
        return
    crd = change.obj
    spec = crd.get("spec") or {}
    store = cluster.store
    if change.type == "DELETED":
        types = types_of(crd)
        for rt in types:
            if not rt.storage_version:
                for obj in store.list(rt):
                    store.delete(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        store.unregister(spec["group"], spec["names"]["plural"])
        return
    current = store.find(change.resource, "", crd["metadata"]["name"])
    if current is not crd:
        return
    store.unregister(spec["group"], spec["names"]["plural"])
    for rt, version in zip(
        types_of(crd), [v for v in spec["versions"] if v.get("served", True)], strict=True
    ):
        store.register(rt)
        store.schemas[f"{rt.group}/{rt.version}/{rt.kind}"] = (version.get("schema") or {}).get(
            "openAPIV3Schema"
        ) or {}
    status = _established(crd)
    if (crd.get("status") or {}) != status:
        store.update(change.resource, {**crd, "status": status}, subresource="status")
