"""Shared helpers for the IAM tests: build policies and requests tersely."""

from __future__ import annotations

from typing import Any

from policies import ContextValue, Policy, PolicySet, Request, parse_policy

__all__ = ["V12", "allow", "allowed", "ctx_req", "deny", "policy", "req", "when"]

V12 = "2012-10-17"


def policy(*statements: dict[str, Any], version: str | None = V12) -> Policy:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return parse_policy(doc)


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def req(
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::bucket/key",
    principal: str | None = None,
    **context: ContextValue,
) -> Request:
    return Request(action=action, resource=resource, principal=principal, context=dict(context))


def ctx_req(context: dict[str, ContextValue], **fields: Any) -> Request:
    """A request whose context keys contain characters that cannot be Python keywords (`aws:SourceIp`)."""
    return Request(
        action=fields.get("action", "s3:GetObject"),
        resource=fields.get("resource", "arn:aws:s3:::bucket/key"),
        context=context,
    )


def allowed(p: Policy | PolicySet, r: Request) -> bool:
    """The decision of both engines, which must agree (a unit test of a rule checks each engine)."""
    from verifiers.iam import decide, evaluate

    concrete = evaluate(p, r).allowed
    symbolic = decide(p, r)
    assert symbolic.status != "unknown", symbolic.reason
    assert (symbolic.status == "sat") == concrete, f"engines disagree on {r.to_json()}"
    return concrete


def when(operator: str, key: str, values: Any, *, effect: str = "Allow") -> Policy:
    """A one-statement policy allowing everything under one condition clause."""
    return policy({"Effect": effect, "Action": "*", "Resource": "*", "Condition": {operator: {key: values}}})
