"""Versions served by conversion: autoscaling/v1 HorizontalPodAutoscalers over the stored autoscaling/v2."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sandbox.resources import ResourceType, find_resource

__all__ = ["cpu_target", "from_storage", "storage_of", "to_storage"]


def storage_of(rt: ResourceType, custom: Iterable[ResourceType] = ()) -> ResourceType:
    if not rt.storage_version:
        return rt
    stored = find_resource(rt.group, rt.storage_version, rt.plural, custom)
    assert stored is not None
    return stored


def cpu_target(spec: dict[str, Any]) -> int | None:
    """The averageUtilization of an autoscaling/v2 HPA spec's CPU Resource metric, if it has one."""
    for metric in spec.get("metrics") or []:
        res = metric.get("resource") or {}
        if metric.get("type") == "Resource" and res.get("name") == "cpu":
            value = (res.get("target") or {}).get("averageUtilization")
            return int(value) if value is not None else None
    return None


def to_storage(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """A request body of `rt`'s version as the stored version (a copy)."""
    if not rt.storage_version or not isinstance(obj, dict):
        return obj
    out = copy.deepcopy(obj)
    out["apiVersion"] = f"{rt.group}/{rt.storage_version}"
    if rt.custom:
        return out  # conversion strategy None: only apiVersion changes
    spec = out.get("spec") or {}
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
            }
        ]
    status = out.get("status") or {}
    current = status.pop("currentCPUUtilizationPercentage", None)
    if current is not None:
        status["currentMetrics"] = [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": current}}}
        ]
    return out


def from_storage(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """A stored object as `rt`'s version (the object itself when no conversion is needed)."""
    if not rt.storage_version:
        return obj
    out = copy.deepcopy(obj)
    out["apiVersion"] = rt.api_version
    if rt.custom:
        return out
    spec = out.get("spec") or {}
    target = cpu_target(spec)
    spec.pop("metrics", None)
    spec.pop("behavior", None)
    if target is not None:
        spec["targetCPUUtilizationPercentage"] = target
    status = out.get("status") or {}
    current = None
    for metric in status.pop("currentMetrics", None) or []:
        if (metric.get("resource") or {}).get("name") == "cpu":
            current = (metric["resource"].get("current") or {}).get("averageUtilization")
    status.pop("conditions", None)
    if current is not None:
        status["currentCPUUtilizationPercentage"] = current
    return out
