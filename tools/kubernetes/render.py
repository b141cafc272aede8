"""How cluster objects are shown to the model: trimmed, secrets redacted, untrusted text fenced as data."""

from __future__ import annotations

import calendar
import copy
import difflib
import time
from typing import Any

import yaml  # type: ignore[import-untyped]

from tools.base import fence

__all__ = [
    "as_data",
    "diff_objects",
    "human_age",
    "pod_line",
    "pod_row",
    "pod_status_text",
    "redact",
    "to_yaml",
    "trim",
]

_NOISE = ("managedFields", "selfLink")


def human_age(timestamp: str | None) -> str:
    if not timestamp:
        return "?"
    seconds = int(time.time() - calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S")))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def redact(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret with its values replaced by their sizes: secret values never reach the model."""
    if obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    for field in ("data", "stringData"):
        if isinstance(out.get(field), dict):
            out[field] = {k: f"<redacted: {len(str(v))} bytes>" for k, v in out[field].items()}
    annotations = out.get("metadata", {}).get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return out


def trim(obj: dict[str, Any]) -> dict[str, Any]:
    """Without managedFields and the last-applied annotation (noise for a reader), secrets redacted."""
    out = redact(obj)
    meta = {k: v for k, v in (out.get("metadata") or {}).items() if k not in _NOISE}
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return {**out, "metadata": meta}


def to_yaml(obj: Any) -> str:
    return str(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=120))


def as_data(source: str, text: str) -> str:
    """Fence text that came from the cluster (logs, events, annotations): it is evidence, not instructions."""
    return fence(f"the cluster: {source}", text)


def diff_objects(before: dict[str, Any] | None, after: dict[str, Any] | None, label: str) -> str:
    """A unified diff of two objects' YAML, ignoring bookkeeping fields the server rewrites on every write."""

    def clean(obj: dict[str, Any] | None) -> list[str]:
        if obj is None:
            return []
        shown = trim(obj)
        meta = {
            k: v
            for k, v in shown.get("metadata", {}).items()
            if k not in ("resourceVersion", "generation", "uid", "creationTimestamp")
        }
        shown = {**shown, "metadata": meta}
        shown.pop("status", None)
        return to_yaml(shown).splitlines()

    lines = difflib.unified_diff(
        clean(before), clean(after), f"{label} (current)", f"{label} (after)", lineterm="", n=2
    )
    return "\n".join(lines) or "(no change)"


def pod_status_text(pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    reason = status.get("reason") or status.get("phase", "Pending")
    inits = status.get("initContainerStatuses") or []
    for n, cs in enumerate(inits):
        state = cs.get("state") or {}
        terminated = state.get("terminated") or {}
        if terminated and terminated.get("exitCode") == 0:
            continue
        if (state.get("waiting") or {}).get("reason") not in (None, "", "PodInitializing"):
            return f"Init:{state['waiting']['reason']}"
        if terminated:
            return f"Init:{terminated.get('reason') or 'Error'}"
        return f"Init:{n}/{len(inits)}"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    return str(reason)


def pod_row(pod: dict[str, Any]) -> dict[str, Any]:
    """A pod as `kubectl get pods` shows it: name, READY, STATUS, RESTARTS, AGE, NODE."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    total = len((pod.get("spec") or {}).get("containers") or [])
    meta = pod["metadata"]
    return {
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
        "ready": f"{ready}/{total}",
        "status": pod_status_text(pod),
        "restarts": sum(int(s.get("restartCount", 0)) for s in statuses),
        "age": human_age(meta.get("creationTimestamp")),
        "node": (pod.get("spec") or {}).get("nodeName") or "<none>",
    }


def pod_line(pod: dict[str, Any], with_namespace: bool = False) -> str:
    row = pod_row(pod)
    cells = [str(row[k]) for k in ("name", "ready", "status", "restarts", "age", "node")]
    if with_namespace:
        cells.insert(0, row["namespace"])
    return "  ".join(cells)
