"""Condition operators of the IAM policy language: names, families, and their qualifiers.

An operator as written (`ForAnyValue:StringNotLikeIfExists`) is parsed into an `Operator`: the set
qualifier (`ForAllValues`/`ForAnyValue`), the base operator, its family, whether it is negated, and the
`IfExists` suffix. Operator names are case-insensitive in AWS, so `stringequals` is `StringEquals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["BASE_OPERATORS", "Family", "Operator", "SetQualifier", "parse_operator"]

Family = Literal["String", "Numeric", "Date", "Bool", "Binary", "IpAddress", "Arn", "Null"]
SetQualifier = Literal["ForAllValues", "ForAnyValue"]

# base operator -> (family, negated)
BASE_OPERATORS: dict[str, tuple[Family, bool]] = {
    "StringEquals": ("String", False),
    "StringNotEquals": ("String", True),
    "StringEqualsIgnoreCase": ("String", False),
    "StringNotEqualsIgnoreCase": ("String", True),
    "StringLike": ("String", False),
    "StringNotLike": ("String", True),
    "NumericEquals": ("Numeric", False),
    "NumericNotEquals": ("Numeric", True),
    "NumericLessThan": ("Numeric", False),
    "NumericLessThanEquals": ("Numeric", False),
    "NumericGreaterThan": ("Numeric", False),
    "NumericGreaterThanEquals": ("Numeric", False),
    "DateEquals": ("Date", False),
    "DateNotEquals": ("Date", True),
    "DateLessThan": ("Date", False),
    "DateLessThanEquals": ("Date", False),
    "DateGreaterThan": ("Date", False),
    "DateGreaterThanEquals": ("Date", False),
    "Bool": ("Bool", False),
    "BinaryEquals": ("Binary", False),
    "IpAddress": ("IpAddress", False),
    "NotIpAddress": ("IpAddress", True),
    "ArnEquals": ("Arn", False),
    "ArnNotEquals": ("Arn", True),
    "ArnLike": ("Arn", False),
    "ArnNotLike": ("Arn", True),
    "Null": ("Null", False),
}
_BY_LOWER = {name.lower(): name for name in BASE_OPERATORS}


@dataclass(frozen=True)
class Operator:
    """A parsed condition operator, e.g. `ForAllValues:StringLikeIfExists`."""

    base: str
    family: Family
    negated: bool
    if_exists: bool = False
    qualifier: SetQualifier | None = None

    @property
    def positive_base(self) -> str:
        """The base operator with its negation removed (`StringNotLike` -> `StringLike`)."""
        if not self.negated:
            return self.base
        return "IpAddress" if self.base == "NotIpAddress" else self.base.replace("Not", "", 1)

    @property
    def name(self) -> str:
        prefix = f"{self.qualifier}:" if self.qualifier else ""
        return f"{prefix}{self.base}{'IfExists' if self.if_exists else ''}"


def parse_operator(text: str) -> Operator | None:
    """Parse an operator name; None when it is not an IAM condition operator."""
    qualifier: SetQualifier | None = None
    rest = text
    if ":" in text:
        head, rest = text.split(":", 1)
        if head.lower() == "forallvalues":
            qualifier = "ForAllValues"
        elif head.lower() == "foranyvalue":
            qualifier = "ForAnyValue"
        else:
            return None
    if_exists = rest.lower().endswith("ifexists")
    base_lower = rest.lower().removesuffix("ifexists") if if_exists else rest.lower()
    base = _BY_LOWER.get(base_lower)
    if base is None or (base == "Null" and (if_exists or qualifier)):
        return None
    family, negated = BASE_OPERATORS[base]
    return Operator(base=base, family=family, negated=negated, if_exists=if_exists, qualifier=qualifier)
