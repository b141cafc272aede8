"""Kubernetes resource quantities ("250m", "1.5", "128Mi", "2G") as numbers, and back."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["QuantityError", "format_cpu", "format_memory", "parse_quantity"]

_SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(value: str | int | float) -> float:
    """The quantity as a float in base units (cores, bytes)."""
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise QuantityError(f"quantities must match the regular expression '{_QUANTITY.pattern}'")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as exc:
        raise QuantityError(f"invalid number {match.group(1)!r}") from exc
    return float(number * _SUFFIX[match.group(2) or ""])


def format_cpu(cores: float) -> str:
    """Cores as the API prints usage: nanocores for small values, like metrics-server does."""
    return f"{round(cores * 1e9)}n"


def format_memory(num_bytes: float) -> str:
    """Bytes as kibibytes, like metrics-server does."""
    return f"{round(num_bytes / 1024)}Ki"
