"""Commitments (Reserved Instances, Savings Plans) from the price file, applied to a set of nodes before
on-demand prices, as AWS bills them.

A commitment is paid whether it is used or not. Reserved instances cover matching on-demand nodes first,
each at its rate, up to its count. A Savings Plan then covers the remaining matching on-demand spend at its
discount, up to its hourly commitment (it buys list spend of commitment / (1 - discount)); what is left is
billed on demand. Spot nodes are never covered. Rules apply in file order, a node's spend once.

```toml
[[commitment]]
kind = "reserved"
instance_type = "m7i.large"
count = 4
usd_per_hour = 0.063           # per instance
label = "RI 1y"

[[commitment]]
kind = "savings-plan"
instance_type = "m7i.*"        # a glob: which types it covers (a Compute Savings Plan: "*")
usd_per_hour = 2.0             # the hourly commitment
discount_pct = 28
label = "Compute SP 1y"
```

The planner chooses nodes at the catalog's prices; commitments change the bill of a plan, not which plan is
cheapest at list prices (the report says so).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from tools.cost.catalog import load_price_tables

__all__ = ["Bill", "Commitment", "apply_commitments", "load_commitments"]


class Commitment(BaseModel):
    kind: Literal["reserved", "savings-plan"]
    instance_type: str = Field(default="*", description="Glob of the instance types it covers.")
    region: str = "*"
    count: int | None = Field(default=None, ge=1, description="Reserved instances: how many.")
    usd_per_hour: float = Field(ge=0, description="Per reserved instance, or a Savings Plan's commitment.")
    discount_pct: float | None = Field(default=None, gt=0, lt=100, description="Savings Plan discount.")
    label: str = "commitment"

    @model_validator(mode="after")
    def _complete(self) -> Commitment:
        if self.kind == "reserved" and (self.count is None or self.discount_pct is not None):
            raise ValueError("a reserved commitment gives count (and no discount_pct)")
        if self.kind == "savings-plan" and (self.discount_pct is None or self.count is not None):
            raise ValueError("a savings-plan commitment gives discount_pct (and no count)")
        return self

    def covers(self, region: str, instance_type: str) -> bool:
        return fnmatch.fnmatchcase(region, self.region) and fnmatch.fnmatchcase(
            instance_type, self.instance_type
        )

    @property
    def hourly(self) -> float:
        """What it costs an hour, used or not."""
        return self.usd_per_hour * (self.count or 1)


def load_commitments(path: Path) -> list[Commitment]:
    """The `[[commitment]]` tables of a TOML price file (or the `commitment` list of a JSON one)."""
    return load_price_tables(path, "commitment", Commitment, "commitments")


class Bill(BaseModel):
    """An hour of a set of nodes, with commitments applied."""

    usd_per_hour: float
    list_usd_per_hour: float = Field(description="The same nodes at the catalog's prices, no commitment.")
    lines: list[str] = Field(description="Per commitment: what it covered, and what it cost.")


def apply_commitments(
    nodes: Iterable[tuple[str, str, float]], commitments: list[Commitment], region: str
) -> Bill:
    """`nodes`: (instance type, capacity type, $/h at the catalog) per node."""
    nodes = sorted(nodes, key=lambda n: (-n[2], n[0], n[1]))  # most expensive first: the most each covers
    listed = sum(price for _, _, price in nodes)
    left = [price if capacity == "on-demand" else 0.0 for _, capacity, price in nodes]
    spot = sum(price for _, capacity, price in nodes if capacity != "on-demand")
    total, lines = spot, []
    for c in commitments:
        total += c.hourly
        matching = [i for i, (itype, _, _) in enumerate(nodes) if left[i] > 0 and c.covers(region, itype)]
        if c.kind == "reserved":
            used = matching[: c.count]
            for i in used:
                left[i] = 0.0
            lines.append(
                f"{c.label}: {len(used)} of {c.count} reserved {c.instance_type} used, ${c.hourly:g}/h"
            )
            continue
        buys = c.usd_per_hour / (1 - (c.discount_pct or 0.0) / 100)
        covered = 0.0
        for i in matching:
            take = min(left[i], buys - covered)
            left[i] -= take
            covered += take
        lines.append(
            f"{c.label}: covers ${covered:.4f}/h of on-demand list spend of ${buys:.4f}/h it buys, "
            f"${c.hourly:g}/h"
        )
    total += sum(left)
    return Bill(usd_per_hour=round(total, 6), list_usd_per_hour=round(listed, 6), lines=lines)
