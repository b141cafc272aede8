"""Validation with field paths, so a bad object gets a 422 whose causes name the field, as upstream."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import invalid
from sandbox.quantity import QuantityError, parse_quantity
from sandbox.resources import ResourceType
from sandbox.selectors import selector_from_spec

__all__ = ["validate"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAMES = {"Namespace", "Service"}
_PATH_NAMES = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "Event"}

Cause = tuple[str, str, str]


def _required(field: str) -> Cause:
    return (field, "FieldValueRequired", "Required value")


def _bad(field: str, value: Any, why: str) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return (field, "FieldValueInvalid", f"Invalid value: {shown}: {why}")


def _name_causes(kind: str, name: str) -> list[Cause]:
    if not name:
        return [("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")]
    if kind in _PATH_NAMES:
        if "/" in name or "%" in name or name in (".", ".."):
            return [_bad("metadata.name", name, "may not contain '/' or '%'")]
    elif kind in _LABEL_NAMES:
        if len(name) > 63 or not _DNS_LABEL.match(name):
            return [
                _bad(
                    "metadata.name",
                    name,
                    "a lowercase RFC 1123 label must consist of lower case "
                    "alphanumeric characters or '-', and must start and end with an alphanumeric character",
                )
            ]
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return [
            _bad(
                "metadata.name",
                name,
                "a lowercase RFC 1123 subdomain must consist of lower case "
                "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _resources_causes(res: dict[str, Any], path: str) -> list[Cause]:
    out: list[Cause] = []
    parsed: dict[str, dict[str, float]] = {"requests": {}, "limits": {}}
    for section in ("requests", "limits"):
        for key, value in (res.get(section) or {}).items():
            try:
                number = parse_quantity(value)
            except QuantityError as exc:
                out.append(_bad(f"{path}.{section}[{key}]", value, str(exc)))
                continue
            if number < 0:
                out.append(_bad(f"{path}.{section}[{key}]", value, "must be greater than or equal to 0"))
            parsed[section][key] = number
    for key, req in parsed["requests"].items():
        lim = parsed["limits"].get(key)
        if lim is not None and req > lim:
            out.append(
                _bad(f"{path}.requests", res["requests"][key], f"must be less than or equal to {key} limit")
            )
    return out


def _pod_spec_causes(spec: Any, path: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [_required(path)]
    containers = spec.get("containers")
    if not containers:
        return [_required(f"{path}.containers")]
    out: list[Cause] = []
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for n, c in enumerate(spec.get(group) or []):
            cpath = f"{path}.{group}[{n}]"
            name = c.get("name", "")
            if not name:
                out.append(_required(f"{cpath}.name"))
            elif not _DNS_LABEL.match(name):
                out.append(
                    _bad(
                        f"{cpath}.name",
                        name,
                        "a lowercase RFC 1123 label must consist of lower case "
                        "alphanumeric characters or '-'",
                    )
                )
            elif name in seen:
                out.append((f"{cpath}.name", "FieldValueDuplicate", f'Duplicate value: "{name}"'))
            seen.add(name)
            if not c.get("image"):
                out.append(_required(f"{cpath}.image"))
            out += _resources_causes(c.get("resources") or {}, f"{cpath}.resources")
            for m, port in enumerate(c.get("ports") or []):
                number = port.get("containerPort")
                if not isinstance(number, int) or not 0 < number < 65536:
                    out.append(
                        _bad(
                            f"{cpath}.ports[{m}].containerPort",
                            number,
                            "must be between 1 and 65535, inclusive",
                        )
                    )
    policy = spec.get("restartPolicy", "Always")
    if policy not in ("Always", "OnFailure", "Never"):
        out.append((f"{path}.restartPolicy", "FieldValueNotSupported", f'Unsupported value: "{policy}"'))
    return out


def _workload_causes(obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [_required("spec")]
    out: list[Cause] = []
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 0:
        out.append(_bad("spec.replicas", replicas, "must be greater than or equal to 0"))
    selector = spec.get("selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if obj["kind"] != "Job":
        if not selector:
            out.append(_required("spec.selector"))
        elif not selector_from_spec(selector)(labels):
            out.append(
                _bad("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")
            )
    if old is not None and obj["kind"] != "Job" and selector != (old.get("spec") or {}).get("selector"):
        out.append(_bad("spec.selector", selector, "field is immutable"))
    out += _pod_spec_causes((spec.get("template") or {}).get("spec"), "spec.template.spec")
    if obj["kind"] == "Job":
        policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        if policy not in ("OnFailure", "Never"):
            out.append(
                (
                    "spec.template.spec.restartPolicy",
                    "FieldValueNotSupported",
                    f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"',
                )
            )
    return out


def _service_causes(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    out: list[Cause] = []
    if spec.get("type") != "ExternalName" and not spec.get("ports") and spec.get("clusterIP") != "None":
        out.append(_required("spec.ports"))
    for n, port in enumerate(spec.get("ports") or []):
        number = port.get("port")
        if not isinstance(number, int) or not 0 < number < 65536:
            out.append(_bad(f"spec.ports[{n}].port", number, "must be between 1 and 65535, inclusive"))
    if spec.get("type") not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        out.append(("spec.type", "FieldValueNotSupported", f'Unsupported value: "{spec.get("type")}"'))
    return out


def _rbac_causes(obj: dict[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    if obj["kind"] in ("Role", "ClusterRole"):
        for n, rule in enumerate(obj.get("rules") or []):
            if not rule.get("verbs"):
                out.append(_required(f"rules[{n}].verbs"))
            if not rule.get("resources") and not rule.get("nonResourceURLs"):
                out.append(_required(f"rules[{n}].resources"))
    else:
        ref = obj.get("roleRef") or {}
        if not ref.get("name"):
            out.append(_required("roleRef.name"))
        if ref.get("kind") not in ("Role", "ClusterRole"):
            out.append(("roleRef.kind", "FieldValueNotSupported", f'Unsupported value: "{ref.get("kind")}"'))
    return out


def _cronjob_causes(spec: dict[str, Any]) -> list[Cause]:
    from sandbox.controllers.cronjobs import parse_schedule

    schedule = spec.get("schedule")
    if not schedule:
        return [_required("spec.schedule")]
    causes: list[Cause] = []
    if "TZ" in str(schedule):
        causes.append(
            _bad(
                "spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            )
        )
    else:
        try:
            parse_schedule(str(schedule))
        except ValueError as exc:
            causes.append(_bad("spec.schedule", schedule, str(exc)))
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int) and deadline < 0:
        causes.append(_bad("spec.startingDeadlineSeconds", deadline, "must be greater than or equal to 0"))
    return causes


def validate(rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
    """Raise a 422 `Invalid` listing every problem found in `obj` (an update when `old` is given)."""
    name = str(obj.get("metadata", {}).get("name", ""))
    causes = _name_causes(rt.kind, name)
    kind = rt.kind
    if kind == "Pod":
        causes += _pod_spec_causes(obj.get("spec"), "spec")
        if old is not None:
            new_images = [c.get("image") for c in obj["spec"].get("containers") or []]
            old_spec = {
                **old["spec"],
                "containers": [{**c, "image": None} for c in old["spec"]["containers"]],
            }
            new_spec = {
                **obj["spec"],
                "containers": [{**c, "image": None} for c in obj["spec"]["containers"]],
            }
            for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "nodeName"):
                old_spec.pop(key, None)
                new_spec.pop(key, None)
            if old_spec != new_spec and all(new_images):
                causes.append(
                    (
                        "spec",
                        "FieldValueForbidden",
                        "Forbidden: pod updates may not change fields other "
                        "than `spec.containers[*].image`, `spec.initContainers[*].image`, "
                        "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing "
                        "tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 "
                        "if it was previously negative)",
                    )
                )
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        causes += _workload_causes(obj, old)
    elif kind == "CronJob":
        causes += _cronjob_causes(obj.get("spec") or {})
    elif kind == "Service":
        causes += _service_causes(obj)
    elif kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
        causes += _rbac_causes(obj)
    elif kind == "ConfigMap":
        for key in obj.get("data") or {}:
            if not re.match(r"^[-._a-zA-Z0-9]+$", key):
                causes.append(
                    _bad(
                        f"data[{key}]",
                        key,
                        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                    )
                )
    if causes:
        raise invalid(kind, rt.qualified, name, causes)
