"""Label and field selectors, parsed as the apiserver parses them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.errors import bad_request

__all__ = ["Matcher", "field_value", "parse_field_selector", "parse_label_selector", "selector_from_spec"]

Matcher = Callable[[dict[str, Any]], bool]

_SET_EXPR = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _requirement(expr: str) -> Callable[[Mapping[str, str]], bool]:
    m = _SET_EXPR.match(expr)
    if m:
        key, op, raw = m.group(1), m.group(2), m.group(3)
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in expr:
            key, _, value = (s.strip() for s in expr.partition(op))
            if not key:
                raise bad_request(f"unable to parse requirement: {expr!r}")
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if expr.startswith("!"):
        key = expr[1:].strip()
        return lambda labels: key not in labels
    key = expr.strip()
    if not re.match(r"^[A-Za-z0-9./_-]+$", key):
        raise bad_request(f"unable to parse requirement: invalid label key {key!r}")
    return lambda labels: key in labels


def parse_label_selector(text: str | None) -> Matcher:
    """`app=web,tier in (a,b),!canary` → a predicate over objects."""
    if not text:
        return lambda obj: True
    reqs = [_requirement(part) for part in _split_top(text)]

    def match(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(r(labels) for r in reqs)

    return match


def field_value(obj: dict[str, Any], path: str) -> str:
    """A dotted field of an object as a string ("" when absent), as field selectors compare it."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


_FIELD_LABELS = {
    "Pod": (
        "spec.nodeName spec.restartPolicy spec.schedulerName spec.serviceAccountName spec.hostNetwork "
        "status.phase status.podIP status.podIPs status.nominatedNodeName"
    ),
    "Event": (
        "involvedObject.kind involvedObject.namespace involvedObject.name involvedObject.uid "
        "involvedObject.apiVersion involvedObject.resourceVersion involvedObject.fieldPath reason "
        "reportingComponent source type"
    ),
    "Node": "spec.unschedulable",
    "Namespace": "status.phase",
    "Secret": "type",
    "ReplicaSet": "status.replicas",
    "ReplicationController": "status.replicas",
    "Job": "status.successful",
    "CertificateSigningRequest": "spec.signerName",
}
"""The field labels each kind's field selectors support beyond metadata.name and metadata.namespace (1.31)."""


def parse_field_selector(text: str | None, kind: str = "") -> Matcher:
    """`metadata.name=web,status.phase!=Running` → a predicate over objects.

    With `kind`, a field label the kind does not support is a 400, as upstream (kubectl sees
    `field label not supported: spec.foo` instead of an empty list).
    """
    if not text:
        return lambda obj: True
    checks: list[tuple[str, bool, str]] = []
    for part in _split_top(text):
        for op in ("!=", "==", "="):
            if op in part:
                path, _, value = part.partition(op)
                checks.append((path.strip(), op != "!=", value.strip()))
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
    supported = {"metadata.name", "metadata.namespace", *_FIELD_LABELS.get(kind, "").split()}
    for path, _, _ in checks:
        if kind and path not in supported:
            raise bad_request(f"field label not supported: {path}")
    return lambda obj: all((field_value(obj, p) == v) == eq for p, eq, v in checks)


def selector_from_spec(selector: dict[str, Any] | None) -> Callable[[Mapping[str, str]], bool]:
    """A `LabelSelector` (matchLabels + matchExpressions) as a predicate over a label map.

    An empty or missing selector matches nothing here, the safe reading for workloads and services.
    """
    if not selector:
        return lambda labels: False
    wanted = dict(selector.get("matchLabels") or {})
    exprs = list(selector.get("matchExpressions") or [])
    if not wanted and not exprs:
        return lambda labels: True

    def match(labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in wanted.items()):
            return False
        for e in exprs:
            key, op, values = e.get("key", ""), e.get("operator", ""), set(e.get("values") or [])
            if op == "In" and labels.get(key) not in values:
                return False
            if op == "NotIn" and labels.get(key) in values:
                return False
            if op == "Exists" and key not in labels:
                return False
            if op == "DoesNotExist" and key in labels:
                return False
        return True

    return match
