"""Conjunction and disjunction of Z3 Booleans without the Python API's per-argument checks.

`z3.And(*xs)` coerces and sort-checks every argument in Python; encoding a 2,000-statement policy spent
most of its time there. The encoder only ever joins Boolean expressions of the one global context, so
these build the term directly (about ten times faster), with `z3.And()`'s meaning for zero arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3
import z3.z3 as _core

__all__ = ["all_of", "any_of"]


def _join(items: Sequence[z3.BoolRef], make: object, empty: bool) -> z3.BoolRef:
    if not items:
        return z3.BoolVal(empty)
    if len(items) == 1:
        return items[0]
    args, n = _core._to_ast_array(items)
    ctx = items[0].ctx
    return z3.BoolRef(make(ctx.ref(), n, args), ctx)  # type: ignore[operator]


def all_of(items: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """`z3.And(*items)`; True when there are none."""
    return _join(items, z3.Z3_mk_and, True)


def any_of(items: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """`z3.Or(*items)`; False when there are none."""
    return _join(items, z3.Z3_mk_or, False)
