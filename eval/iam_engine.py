"""The IAM engine as the eval suites use it: parse, evaluate, compare, and confirm counterexamples.

Resolved lazily so a suite can say precisely which part of the engine is missing instead of crashing.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "RELATIONS",
    "confirm_counterexample",
    "counterexample_request",
    "engine_function",
    "engine_unavailable",
    "parse",
    "request_json",
]

RELATIONS = ("equivalent", "less_permissive", "more_permissive", "incomparable", "unknown")
"""Every relation `compare` may give (the engine's `Relation`), the four decided ones first."""

_FUNCTIONS = {
    "parse_policy": ("policies", "policies.parse"),
    "parse_request": ("policies", "policies.request"),
    "evaluate": ("verifiers.iam", "verifiers.iam.evaluate"),
    "compare": ("verifiers.iam", "verifiers.iam.compare"),
    "explain": ("verifiers.iam", "verifiers.iam.explain"),
}


def engine_function(name: str) -> Any:
    """The engine's `name` function, from its package or the module that defines it."""
    errors = []
    for module in _FUNCTIONS[name]:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except Exception as exc:  # a half-landed module fails to import: that is "not available"
            errors.append(f"{module}: {type(exc).__name__}: {exc}")
            continue
        if callable(found):
            return found
        errors.append(f"{module} has no {name}()")
    raise ImportError(f"the IAM engine's {name}() is not available ({'; '.join(errors)})")


def engine_unavailable(*names: str) -> str | None:
    """None when every named engine function resolves, else the first reason it does not."""
    for name in names:
        try:
            engine_function(name)
        except ImportError as exc:
            return str(exc)
    return None


def parse(doc: Any) -> Any:
    return engine_function("parse_policy")(doc)


def counterexample_request(cx: Any) -> Any:
    """The request inside a counterexample (the engine may return requests or wrappers around one)."""
    inner = getattr(cx, "request", None)
    if inner is not None:
        return inner
    if isinstance(cx, dict):
        return engine_function("parse_request")(cx.get("request", cx))
    return cx


def request_json(request: Any) -> dict[str, Any]:
    if hasattr(request, "to_json"):
        out: dict[str, Any] = request.to_json()
        return out
    if hasattr(request, "model_dump"):
        dumped: dict[str, Any] = request.model_dump(exclude_none=True)
        return dumped
    return {"request": str(request)}


def confirm_counterexample(p1: Any, p2: Any, cx: Any) -> tuple[bool, Any, Any]:
    """Whether the concrete evaluator confirms `cx` separates the policies, and both decisions."""
    evaluate = engine_function("evaluate")
    request = counterexample_request(cx)
    d1, d2 = evaluate(p1, request), evaluate(p2, request)
    return (d1.decision == "Allowed") != (d2.decision == "Allowed"), d1, d2
