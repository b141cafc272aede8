"""Price catalogs shipped with opsgraph (AWS, GCP, Azure) and user price overrides.

`PriceCatalog.load()` reads the compact tables in `tools/cost/data/` (sources in `data/ATTRIBUTION.md`).
AWS spot prices are estimates from the Spot Advisor (on-demand x (1 - savings %)), labelled as such; GCP
spot prices are list prices; Azure ships on-demand only (and AWS GovCloud has no Spot Advisor data): their
spot prices come from the price file as spot list prices. Overrides (discounts, Savings Plan or reserved rates)
replace or discount matching prices and are labelled with their source.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, model_validator

from verifiers.cost.model import CapacityType, Offering

__all__ = [
    "CatalogError",
    "InstanceSpec",
    "PriceCatalog",
    "PriceOverride",
    "PriceQuote",
    "estimated_allocatable",
    "load_overrides",
    "load_price_tables",
]

if TYPE_CHECKING:
    from tools.cost.commitments import Commitment

Cloud = Literal["aws", "gcp", "azure"]
DATA = Path(__file__).parent / "data"


class CatalogError(ValueError):
    """Unknown region or type, or no price: the message names what is missing and what exists."""


@dataclass(frozen=True)
class InstanceSpec:
    cloud: str
    instance_type: str
    family: str
    arch: str
    vcpu: int
    memory_mib: int
    gpu: int
    alloc_cpu_m: int
    alloc_memory_mib: float
    max_pods: int
    alloc_source: str


class PriceQuote(BaseModel):
    cloud: str
    region: str
    instance_type: str
    capacity_type: CapacityType
    usd_per_hour: float
    source: str = Field(description="`list`, `spot-advisor-estimate`, or `override:<label>`.")
    interruption_bucket: int | None = None
    interruption_label: str | None = None


class PriceOverride(BaseModel):
    """A user price rule. The first rule that matches a (cloud, region, type, capacity type) applies."""

    cloud: Cloud | Literal["*"] = "*"
    region: str = "*"
    instance_type: str = Field(default="*", description="Glob, e.g. `m7i.*`.")
    capacity_type: CapacityType | Literal["*"] = "on-demand"
    usd_per_hour: float | None = Field(default=None, ge=0)
    discount_pct: float | None = Field(default=None, ge=0, le=100)
    label: str = "override"
    list_price: bool = Field(
        default=False,
        description="A list price where none ships. On-demand (AWS regions whose prices are not shipped): "
        "spot is then estimated from it with the Spot Advisor, as from a shipped one. Spot (Azure, "
        "GovCloud, or your own AWS spot rate): used as given, in place of any estimate.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> PriceOverride:
        if (self.usd_per_hour is None) == (self.discount_pct is None):
            raise ValueError("give exactly one of usd_per_hour or discount_pct")
        if self.list_price and (self.usd_per_hour is None or self.capacity_type == "*"):
            raise ValueError("a list_price rule gives usd_per_hour for one capacity_type (on-demand or spot)")
        return self

    def matches(self, cloud: str, region: str, instance_type: str, capacity_type: str) -> bool:
        return (
            self.cloud in ("*", cloud)
            and fnmatch.fnmatchcase(region, self.region)
            and fnmatch.fnmatchcase(instance_type, self.instance_type)
            and self.capacity_type in ("*", capacity_type)
        )


_Row = TypeVar("_Row", bound=BaseModel)


def load_price_tables(path: Path, table: str, model: type[_Row], what: str) -> list[_Row]:
    """The `[[table]]` tables of a TOML price file (or the `table` list of a JSON one), each validated as
    `model`; a CatalogError naming the file and the table's place (`/override/2/usd_per_hour`) otherwise."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise CatalogError(f"{path}: cannot read {what}: not valid {kind} ({exc})") from exc
    rows: list[_Row] = []
    for k, raw in enumerate(data.get(table, [])):
        try:
            rows.append(model.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = "/".join(str(p) for p in err["loc"])
            raise CatalogError(f"{path}: /{table}/{k}{'/' + loc if loc else ''}: {err['msg']}") from exc
    return rows


def load_overrides(path: Path) -> list[PriceOverride]:
    """Rules from a TOML (`[[override]]` tables) or JSON (`{"override": [...]}`) file."""
    return load_price_tables(path, "override", PriceOverride, "price overrides")


def estimated_allocatable(vcpu: int, memory_mib: float) -> tuple[int, float]:
    """GKE/AKS-style kube-reserved + 100 MiB eviction threshold, for clouds without published allocatable."""
    reserved_m = 0.0
    for lo, hi, share in ((0, 1, 0.06), (1, 2, 0.01), (2, 4, 0.005), (4, 1 << 20, 0.0025)):
        reserved_m += max(0, min(vcpu, hi) - lo) * 1000 * share
    gib = memory_mib / 1024
    reserved_gib = 0.0
    for lo, hi, share in ((0, 4, 0.25), (4, 8, 0.2), (8, 16, 0.1), (16, 128, 0.06), (128, 1 << 20, 0.02)):
        reserved_gib += max(0.0, min(gib, hi) - lo) * share
    return int(vcpu * 1000 - reserved_m), max(0.0, memory_mib - reserved_gib * 1024 - 100)


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(DATA / name, "rt", newline="") as fh:
        return list(csv.DictReader(io.StringIO(fh.read())))


@cache
def _tables() -> tuple[
    dict[tuple[str, str], InstanceSpec],
    dict[tuple[str, str, str, str], float],
    dict[tuple[str, str], tuple[int, int]],
]:
    specs: dict[tuple[str, str], InstanceSpec] = {}
    for r in _rows("instance_types.csv.gz"):
        vcpu, mem = int(r["vcpu"]), int(r["memory_mib"])
        if r["alloc_cpu_m"]:
            cpu_m, mem_a = int(r["alloc_cpu_m"]), float(r["alloc_memory_mib"])
        else:
            cpu_m, mem_a = estimated_allocatable(vcpu, mem)
        specs[(r["cloud"], r["instance_type"])] = InstanceSpec(
            r["cloud"], r["instance_type"], r["family"], r["arch"], vcpu, mem, int(r["gpu"] or 0),
            cpu_m, mem_a, int(r["alloc_pods"]), r["alloc_source"],
        )  # fmt: skip
    prices = {
        (r["cloud"], r["region"], r["instance_type"], r["capacity_type"]): float(r["usd_per_hour"])
        for r in _rows("prices.csv.gz")
    }
    spot = {
        (r["region"], r["instance_type"]): (int(r["savings_pct"]), int(r["interruption_bucket"]))
        for r in _rows("aws_spot_advisor.csv.gz")
    }
    return specs, prices, spot


BUCKET_LABELS = {0: "<5%", 1: "5-10%", 2: "10-15%", 3: "15-20%", 4: ">20%"}


class PriceCatalog:
    """Instance specs and prices for one cloud and region, with overrides applied."""

    def __init__(
        self,
        cloud: str = "aws",
        region: str = "us-east-1",
        overrides: list[PriceOverride] | None = None,
        commitments: list[Commitment] | None = None,
    ):
        regions = self.regions(cloud)
        if not regions:
            raise CatalogError(f"unknown cloud {cloud!r}; known: aws, gcp, azure")
        if region not in regions:
            near = [r for r in regions if r.split("-")[0] == region.split("-")[0]] or regions[:8]
            raise CatalogError(f"unknown region {region!r} for {cloud}; e.g. {', '.join(near[:8])}")
        self.cloud, self.region = cloud, region
        self.overrides = list(overrides or [])
        self.commitments = list(commitments or [])  # applied to bills (tools.cost.commitments), not prices

    @staticmethod
    def regions(cloud: str) -> list[str]:
        """Regions with shipped prices; on AWS also the Spot Advisor's (their on-demand prices come from
        the price file's list_price rules)."""
        _, prices, spot = _tables()
        advised = {region for region, _ in spot} if cloud == "aws" else set()
        return sorted({k[1] for k in prices if k[0] == cloud} | advised)

    def spec(self, instance_type: str) -> InstanceSpec:
        spec = _tables()[0].get((self.cloud, instance_type))
        if spec is None:
            raise CatalogError(f"unknown instance type {instance_type!r} for {self.cloud}")
        return spec

    def instance_types(self) -> list[str]:
        """Types priced in the region (on AWS also those the Spot Advisor lists there, priced when the price
        file gives their list price)."""
        specs, prices, spot = _tables()
        listed = {k[2] for k in prices if k[0] == self.cloud and k[1] == self.region}
        if self.cloud == "aws" and any(rule.list_price for rule in self.overrides):
            listed |= {t for region, t in spot if region == self.region}
        return sorted(t for t in listed if (self.cloud, t) in specs)

    def _list_price(self, instance_type: str, capacity_type: str) -> tuple[float, str] | None:
        """The list price and its source: shipped, or the price file's list_price rule."""
        listed = _tables()[1].get((self.cloud, self.region, instance_type, capacity_type))
        if listed is not None:
            return listed, "list"
        for rule in self.overrides:
            if rule.list_price and rule.matches(self.cloud, self.region, instance_type, capacity_type):
                return float(rule.usd_per_hour or 0.0), f"list:{rule.label}"
        return None

    def _base(self, instance_type: str, capacity_type: CapacityType) -> PriceQuote | None:
        spot = _tables()[2]
        listed = self._list_price(instance_type, capacity_type)
        advice = spot.get((self.region, instance_type)) if self.cloud == "aws" else None
        bucket = advice[1] if advice and capacity_type == "spot" else None
        if listed is not None:
            return PriceQuote(
                cloud=self.cloud, region=self.region, instance_type=instance_type, capacity_type=capacity_type,
                usd_per_hour=listed[0], source=listed[1], interruption_bucket=bucket,
                interruption_label=BUCKET_LABELS.get(bucket) if bucket is not None else None,
            )  # fmt: skip
        od_listed = self._list_price(instance_type, "on-demand")
        od = od_listed[0] if od_listed else None
        if capacity_type == "spot" and od is not None and advice is not None:
            return PriceQuote(
                cloud=self.cloud, region=self.region, instance_type=instance_type, capacity_type="spot",
                usd_per_hour=round(od * (1 - advice[0] / 100), 6), source="spot-advisor-estimate",
                interruption_bucket=advice[1], interruption_label=BUCKET_LABELS[advice[1]],
            )  # fmt: skip
        return None

    def quote(self, instance_type: str, capacity_type: CapacityType = "on-demand") -> PriceQuote:
        """The price to plan with; raises CatalogError naming what is missing."""
        self.spec(instance_type)
        base = self._base(instance_type, capacity_type)
        for rule in self.overrides:
            if not rule.list_price and rule.matches(self.cloud, self.region, instance_type, capacity_type):
                if rule.usd_per_hour is not None:
                    price = rule.usd_per_hour
                elif base is not None and rule.discount_pct is not None:
                    price = round(base.usd_per_hour * (1 - rule.discount_pct / 100), 6)
                else:
                    continue
                bucket = base.interruption_bucket if base else None
                return PriceQuote(
                    cloud=self.cloud, region=self.region, instance_type=instance_type,
                    capacity_type=capacity_type, usd_per_hour=price, source=f"override:{rule.label}",
                    interruption_bucket=bucket, interruption_label=BUCKET_LABELS.get(bucket) if bucket is not None else None,
                )  # fmt: skip
        if base is None:
            hint = ""
            if self.cloud == "aws" and self._list_price(instance_type, "on-demand") is None:
                hint = (
                    ": AWS list prices ship for us-east-1 and GovCloud only; give this region's on-demand "
                    "prices in the price file (`[[override]]` with `list_price = true`), spot is then estimated"
                )
            elif capacity_type == "spot":
                hint = (
                    f": no spot prices ship for {self.cloud}/{self.region}; give them in the price file "
                    '(`[[override]]` with `capacity_type = "spot"` and `list_price = true`)'
                )
            raise CatalogError(
                f"no {capacity_type} price for {instance_type} in {self.cloud}/{self.region}{hint}"
            )
        return base

    def offerings(
        self,
        instance_types: list[str] | None = None,
        capacity_types: tuple[CapacityType, ...] = ("on-demand", "spot"),
    ) -> list[Offering]:
        """Every priced (type, capacity type) of the region, or of the given types; GPU types only when named."""
        names = instance_types if instance_types is not None else self.instance_types()
        out: list[Offering] = []
        for name in names:
            spec = self.spec(name)
            if spec.gpu and instance_types is None:
                continue
            for ct in capacity_types:
                try:
                    q = self.quote(name, ct)
                except CatalogError:
                    continue
                out.append(
                    Offering(
                        instance_type=name, capacity_type=ct, cpu_m=spec.alloc_cpu_m,
                        memory_mib=spec.alloc_memory_mib, max_pods=spec.max_pods, usd_per_hour=q.usd_per_hour,
                        arch=spec.arch, region=self.region, interruption_bucket=q.interruption_bucket,
                    )
                )  # fmt: skip
        return out
