"""Lint a policy: unknown actions and keys, invalid ARNs, operators on the wrong key type, risky patterns.

Each finding names its JSON pointer. Severity `error` means the element cannot work as written (it never
matches, or AWS rejects it); `warning` means it works but probably not as intended.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from policies.catalog import load_catalog
from policies.model import Policy, Statement
from policies.variables import has_variables, split_pattern
from verifiers.iam.values import parse_bool, parse_date, parse_network, parse_number

__all__ = ["Finding", "lint"]

_COMPATIBLE = {
    "String": {"String", "ARN"},
    "Arn": {"ARN", "String"},
    "Numeric": {"Numeric"},
    "Date": {"Date", "Numeric"},
    "Bool": {"Bool"},
    "IpAddress": {"IPAddress"},
    "Binary": {"Binary", "String"},
}


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Literal["error", "warning"]
    pointer: str
    message: str

    def text(self) -> str:
        return f"{self.severity}: {self.pointer}: {self.message}"


def _actions(st: Statement, base: str, out: list[Finding]) -> None:
    catalog = load_catalog()
    name = "Action" if st.action is not None else "NotAction"
    items = st.action if st.action is not None else st.not_action or ()
    for i, a in enumerate(items):
        where = f"{base}/{name}/{i}" if len(items) > 1 else f"{base}/{name}"
        if a == "*":
            continue
        if ":" not in a:
            out.append(Finding(severity="error", pointer=where, message=f"{a!r} is not service:action"))
            continue
        service = a.split(":", 1)[0]
        if "*" not in service and "?" not in service and not catalog.has_service(service):
            out.append(
                Finding(severity="error", pointer=where, message=f"unknown service prefix {service!r}")
            )
        elif not catalog.expand(a):
            out.append(Finding(severity="error", pointer=where, message=f"{a!r} matches no known action"))


def _resources(st: Statement, base: str, out: list[Finding]) -> None:
    name = "Resource" if st.resource is not None else "NotResource"
    items = st.resource if st.resource is not None else st.not_resource or ()
    catalog = load_catalog()
    for i, r in enumerate(items):
        where = f"{base}/{name}/{i}" if len(items) > 1 else f"{base}/{name}"
        if r == "*" or not r.startswith("arn:"):
            if r != "*":
                out.append(
                    Finding(
                        severity="warning",
                        pointer=where,
                        message=f"{r!r} is not an ARN; it matches only that exact text",
                    )
                )
            continue
        parts = r.split(":", 5)
        if len(parts) < 6 and not r.endswith("*"):
            out.append(
                Finding(
                    severity="error",
                    pointer=where,
                    message=f"invalid ARN {r!r}: expected arn:partition:service:region:account:resource",
                )
            )
        elif len(parts) > 2 and "*" not in parts[2] and parts[2] and not catalog.has_service(parts[2]):
            out.append(
                Finding(severity="warning", pointer=where, message=f"unknown service {parts[2]!r} in ARN")
            )


def _value_errors(family: str, values: tuple[str, ...]) -> str | None:
    parsers = {"Numeric": parse_number, "Date": parse_date, "Bool": parse_bool, "IpAddress": parse_network}
    parse = parsers.get(family)
    if parse is None:
        return None
    bad = [v for v in values if parse(v) is None and "${" not in v]
    return f"{bad[0]!r} is not a valid {family} value" if bad else None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _conditions(st: Statement, base: str, out: list[Finding]) -> None:
    catalog = load_catalog()
    null_keys = {c.key.lower() for c in st.condition if c.op.family == "Null"}
    for c in st.condition:
        where = f"{base}/Condition/{_escape(c.operator)}/{_escape(c.key)}"
        op = c.op
        problem = _value_errors(op.family, c.values)
        if problem:
            out.append(
                Finding(severity="error", pointer=where, message=f"{problem}; this value never matches")
            )
        kind = catalog.key_type(c.key)
        if kind is None:
            out.append(Finding(severity="warning", pointer=where, message=f"unknown condition key {c.key!r}"))
            continue
        base_type, multi = kind.removesuffix("[]"), kind.endswith("[]")
        if op.family != "Null" and base_type not in _COMPATIBLE.get(op.family, {base_type}):
            out.append(
                Finding(
                    severity="warning",
                    pointer=where,
                    message=f"{op.base} on {c.key}, a key of type {base_type}: use a {base_type} operator",
                )
            )
        if multi and not op.qualifier and op.family != "Null":
            out.append(
                Finding(
                    severity="warning",
                    pointer=where,
                    message=f"{c.key} is multivalued: without ForAllValues/ForAnyValue the condition is false whenever the key is present",
                )
            )
        if not multi and op.qualifier:
            out.append(
                Finding(
                    severity="warning",
                    pointer=where,
                    message=f"{op.qualifier} on {c.key}, a single-valued key",
                )
            )
        if op.qualifier == "ForAllValues" and st.effect == "Allow" and c.key.lower() not in null_keys:
            out.append(
                Finding(
                    severity="warning",
                    pointer=where,
                    message=f"ForAllValues on an Allow is true when {c.key} is absent; add a Null condition on it",
                )
            )


def _admin(st: Statement, base: str, out: list[Finding]) -> None:
    if st.effect != "Allow" or st.condition:
        return
    if (
        st.action is not None
        and any(a in ("*", "*:*") for a in st.action)
        and (st.resource is None or "*" in st.resource)
    ):
        out.append(
            Finding(
                severity="warning",
                pointer=base,
                message="wildcard admin: allows every action on every resource",
            )
        )
    elif st.not_action is not None:
        out.append(
            Finding(
                severity="warning",
                pointer=f"{base}/NotAction",
                message="Allow with NotAction allows every other action, including new ones",
            )
        )


def lint(policy: Policy) -> list[Finding]:
    """Findings for a parsed policy, in statement order."""
    out: list[Finding] = []
    for st in policy.statements:
        base = f"/Statement/{st.index}" if len(policy.statements) > 1 or st.index else "/Statement/0"
        _actions(st, base, out)
        _resources(st, base, out)
        _conditions(st, base, out)
        _admin(st, base, out)
        texts = [*(st.resource or ()), *(st.not_resource or ()), *(v for c in st.condition for v in c.values)]
        if not policy.supports_variables and any(has_variables(split_pattern(t, True)) for t in texts):
            out.append(
                Finding(
                    severity="warning",
                    pointer=base,
                    message='policy variables are literal text unless "Version": "2012-10-17"',
                )
            )
    return out
