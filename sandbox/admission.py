"""Admission for pods: LimitRange defaults and bounds, ResourceQuota limits, with upstream's 403 messages."""

from __future__ import annotations

from typing import Any

from sandbox.errors import forbidden
from sandbox.quantity import parse_quantity
from sandbox.resources import find_resource
from sandbox.store import Store

__all__ = ["admit_pod", "format_quantity"]

_DONE = ("Succeeded", "Failed")


def format_quantity(resource: str, value: float) -> str:
    if resource.endswith("cpu"):
        return str(int(value)) if float(value).is_integer() else f"{round(value * 1000)}m"
    if resource.endswith("memory"):
        for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if value >= size and float(value / size).is_integer():
                return f"{int(value / size)}{unit}"
    return str(int(value)) if float(value).is_integer() else str(value)


def _limit_ranges(store: Store, pod: dict[str, Any]) -> None:
    rt = find_resource("", "v1", "limitranges")
    assert rt is not None
    name = pod["metadata"].get("name") or pod["metadata"].get("generateName", "")
    for lr in store.list(rt, pod["metadata"]["namespace"]):
        for item in (lr.get("spec") or {}).get("limits") or []:
            if item.get("type", "Container") != "Container":
                continue
            for c in pod["spec"].get("containers") or []:
                res = c.setdefault("resources", {})
                for key, value in (item.get("default") or {}).items():
                    res.setdefault("limits", {}).setdefault(key, value)
                for key, value in (item.get("defaultRequest") or {}).items():
                    res.setdefault("requests", {}).setdefault(key, value)
                for key, value in (res.get("limits") or {}).items():
                    res.setdefault("requests", {}).setdefault(key, value)
                for key, bound in (item.get("max") or {}).items():
                    limit = (res.get("limits") or {}).get(key)
                    if limit is None:
                        raise forbidden(
                            f'pods "{name}" is forbidden: maximum {key} usage per Container is {bound}. '
                            f"No limit is specified",
                            "pods",
                            name,
                        )
                    if parse_quantity(limit) > parse_quantity(bound):
                        raise forbidden(
                            f'pods "{name}" is forbidden: maximum {key} usage per Container is {bound}, '
                            f"but limit is {limit}",
                            "pods",
                            name,
                        )
                for key, bound in (item.get("min") or {}).items():
                    request = (res.get("requests") or {}).get(key)
                    if request is not None and parse_quantity(request) < parse_quantity(bound):
                        raise forbidden(
                            f'pods "{name}" is forbidden: minimum {key} usage per Container is {bound}, '
                            f"but request is {request}",
                            "pods",
                            name,
                        )


def _pod_usage(pod: dict[str, Any]) -> dict[str, float]:
    out = {"pods": 1.0}
    for c in pod["spec"].get("containers") or []:
        res = c.get("resources") or {}
        for section, prefix in (("requests", "requests."), ("limits", "limits.")):
            for key, value in (res.get(section) or {}).items():
                out[prefix + key] = out.get(prefix + key, 0.0) + parse_quantity(value)
    out["cpu"] = out.get("requests.cpu", 0.0)
    out["memory"] = out.get("requests.memory", 0.0)
    return out


def _quotas(store: Store, pod: dict[str, Any]) -> None:
    rt, pods_rt = find_resource("", "v1", "resourcequotas"), find_resource("", "v1", "pods")
    assert rt is not None and pods_rt is not None
    ns = pod["metadata"]["namespace"]
    name = pod["metadata"].get("name") or pod["metadata"].get("generateName", "")
    quotas = store.list(rt, ns)
    if not quotas:
        return
    wanted = _pod_usage(pod)
    used: dict[str, float] = {}
    for other in store.list(pods_rt, ns):
        if (other.get("status") or {}).get("phase") not in _DONE:
            for key, value in _pod_usage(other).items():
                used[key] = used.get(key, 0.0) + value
    for quota in quotas:
        hard = (quota.get("spec") or {}).get("hard") or {}
        qname = quota["metadata"]["name"]
        missing = [
            k for k in hard if k != "pods" and k not in wanted and k.split(".")[-1] in ("cpu", "memory")
        ]
        if missing:
            containers = ",".join(c["name"] for c in pod["spec"].get("containers") or [])
            raise forbidden(
                f'pods "{name}" is forbidden: failed quota: {qname}: must specify {",".join(sorted(missing))} '
                f"for: {containers}",
                "pods",
                name,
            )
        over = [
            k
            for k, v in hard.items()
            if k in wanted and used.get(k, 0.0) + wanted[k] > parse_quantity(v) + 1e-9
        ]
        if over:

            def fmt(values: dict[str, float], keys: list[str] = over) -> str:
                return ",".join(f"{k}={format_quantity(k, values.get(k, 0.0))}" for k in sorted(keys))

            limited = ",".join(f"{k}={hard[k]}" for k in sorted(over))
            raise forbidden(
                f'pods "{name}" is forbidden: exceeded quota: {qname}, requested: {fmt(wanted)}, '
                f"used: {fmt(used)}, limited: {limited}",
                "pods",
                name,
            )


def admit_pod(store: Store, pod: dict[str, Any]) -> None:
    """Apply LimitRange defaults to `pod` in place, then enforce LimitRange bounds and ResourceQuotas."""
    _limit_ranges(store, pod)
    _quotas(store, pod)
