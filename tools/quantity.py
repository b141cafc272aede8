"""Kubernetes resource quantities: CPU to millicores, memory to MiB, and back (shared by the domain tools)."""

from __future__ import annotations

import math

__all__ = ["format_cpu", "format_memory", "parse_cpu", "parse_memory"]

_BIN = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DEC = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}


def _value(q: str) -> float:
    q = str(q).strip()
    if not q:
        raise ValueError("empty quantity")
    for suffix, mult in _BIN.items():
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * mult
    if q[-1] in _DEC and not q[-1].isdigit():
        return float(q[:-1]) * _DEC[q[-1]]
    return float(q)


def parse_cpu(q: str | int | float) -> float:
    """CPU quantity (`250m`, `1`, `0.5`, `1500000n`) in millicores."""
    return _value(str(q)) * 1000


def parse_memory(q: str | int | float) -> float:
    """Memory quantity (`512Mi`, `1G`, `1073741824`) in MiB."""
    return _value(str(q)) / 2**20


def format_cpu(millicores: float) -> str:
    return f"{math.ceil(millicores)}m"


def format_memory(mib: float) -> str:
    return f"{math.ceil(mib)}Mi"
