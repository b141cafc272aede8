"""Pydantic models of IAM policy documents, normalized: every list-or-string element is a tuple.

`parse_policy` (in `policies.parse`) builds these from JSON and names the JSON pointer of any error;
`Policy.to_json()` gives the AWS form back.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.operators import Operator, parse_operator

__all__ = [
    "PRINCIPAL_KINDS",
    "ConditionClause",
    "Effect",
    "Policy",
    "PolicySet",
    "Principal",
    "Statement",
]

Effect = Literal["Allow", "Deny"]
PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Principal(_Frozen):
    """`Principal`/`NotPrincipal`: `"*"` (everyone) or values per kind (`AWS`, `Service`, ...)."""

    wildcard: bool = False
    values: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def to_json(self) -> Any:
        if self.wildcard:
            return "*"
        return {k: v[0] if len(v) == 1 else list(v) for k, v in self.values.items()}


class ConditionClause(_Frozen):
    """One `operator: {key: values}` entry of a `Condition` block; values are kept as strings."""

    operator: str
    key: str
    values: tuple[str, ...]

    @property
    def op(self) -> Operator:
        parsed = parse_operator(self.operator)
        if parsed is None:  # parse_policy rejects these, so only hand-built clauses get here
            raise ValueError(f"unknown condition operator {self.operator!r}")
        return parsed


class Statement(_Frozen):
    """One statement. Exactly one of action/not_action is set; resource and principal are optional."""

    sid: str | None = None
    effect: Effect
    action: tuple[str, ...] | None = None
    not_action: tuple[str, ...] | None = None
    resource: tuple[str, ...] | None = None
    not_resource: tuple[str, ...] | None = None
    principal: Principal | None = None
    not_principal: Principal | None = None
    condition: tuple[ConditionClause, ...] = ()
    index: int = 0
    """Position in the policy's `Statement` list, for messages (`/Statement/<index>`)."""

    @property
    def label(self) -> str:
        return f"Statement[{self.index}]" + (f" ({self.sid})" if self.sid else "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sid is not None:
            out["Sid"] = self.sid
        out["Effect"] = self.effect
        for name, value in (
            ("Principal", self.principal),
            ("NotPrincipal", self.not_principal),
        ):
            if value is not None:
                out[name] = value.to_json()
        for name, items in (
            ("Action", self.action),
            ("NotAction", self.not_action),
            ("Resource", self.resource),
            ("NotResource", self.not_resource),
        ):
            if items is not None:
                out[name] = items[0] if len(items) == 1 else list(items)
        if self.condition:
            block: dict[str, dict[str, Any]] = {}
            for c in self.condition:
                block.setdefault(c.operator, {})[c.key] = (
                    c.values[0] if len(c.values) == 1 else list(c.values)
                )
            out["Condition"] = block
        return out


class Policy(_Frozen):
    """A policy document. `version` None means the element was absent (2008-10-17 semantics)."""

    version: str | None = None
    id: str | None = None
    statements: tuple[Statement, ...] = ()
    source: str | None = None
    """Where it came from (a file path), for messages."""

    @property
    def supports_variables(self) -> bool:
        """Policy variables are substituted only in `2012-10-17` documents; elsewhere they are literal."""
        return self.version == "2012-10-17"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.version is not None:
            out["Version"] = self.version
        if self.id is not None:
            out["Id"] = self.id
        out["Statement"] = [s.to_json() for s in self.statements]
        return out


class PolicySet(_Frozen):
    """The policies that decide one request, by type (AWS evaluation logic combines them)."""

    identity: tuple[Policy, ...] = ()
    resource: tuple[Policy, ...] = ()
    boundary: tuple[Policy, ...] = ()
    session: tuple[Policy, ...] = ()
    scp: tuple[Policy, ...] = ()

    def all_policies(self) -> tuple[Policy, ...]:
        return self.identity + self.resource + self.boundary + self.session + self.scp
