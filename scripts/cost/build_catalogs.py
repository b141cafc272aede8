"""Rebuild the compact price catalogs in tools/cost/data/ from ../shared/datasets.

Run from the repository root: `.venv/bin/python scripts/cost/build_catalogs.py [DATASETS_DIR]`.
The output is deterministic (sorted rows, gzip mtime 0), so a rebuild from the same snapshot is a no-op diff.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

__all__ = ["main"]

OUT = Path(__file__).resolve().parents[2] / "tools" / "cost" / "data"
TYPE_COLUMNS = [
    "cloud", "instance_type", "family", "arch", "vcpu", "memory_mib", "gpu",
    "alloc_cpu_m", "alloc_memory_mib", "alloc_pods", "alloc_source",
]  # fmt: skip
PRICE_COLUMNS = ["cloud", "region", "instance_type", "capacity_type", "usd_per_hour", "price_source"]
SPOT_COLUMNS = ["region", "instance_type", "savings_pct", "interruption_bucket"]


def _write(name: str, columns: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(sorted(rows))
    with open(OUT / name, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode())
    print(f"{name}: {len(rows)} rows")


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _fmt(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _aws(ds: Path, types: list[list[str]], prices: list[list[str]]) -> None:
    for r in _read(ds / "aws-ec2-catalog" / "ec2_instance_types.csv"):
        if not r["alloc_cpu_millicores"]:
            continue
        types.append(
            [
                "aws", r["instance_type"], r["family"], r["arch"], r["vcpu"], r["memory_mib"],
                r["gpu_count"] or "0", r["alloc_cpu_millicores"], _fmt(float(r["alloc_memory_mib"])),
                r["alloc_pods"], "karpenter-al2023",
            ]
        )  # fmt: skip
    for r in _read(ds / "aws-ec2-catalog" / "ec2_ondemand_prices.csv"):
        if r["currency"] != "USD":
            continue  # cn-north-1 is priced in CNY; the catalog is USD only
        prices.append(["aws", r["region"], r["instance_type"], "on-demand", r["price_per_hour"], "list"])
    spot = [
        [r["region"], r["instance_type"], r["savings_pct_vs_ondemand"], r["interruption_bucket"]]
        for r in _read(ds / "aws-spot-advisor" / "spot_advisor.csv")
        if r["os"] == "Linux"
    ]
    _write("aws_spot_advisor.csv.gz", SPOT_COLUMNS, spot)


def _gcp(ds: Path, types: list[list[str]], prices: list[list[str]]) -> None:
    specs: dict[str, tuple[str, str]] = {}
    for r in _read(ds / "gcp-gce-catalog" / "gce_prices.csv"):
        if r["vcpu"]:
            specs[r["machine_type"]] = (r["vcpu"], str(int(float(r["memory_gib"]) * 1024)))
        prices.append(["gcp", r["region"], r["machine_type"], "on-demand", r["ondemand_usd_hr"], "list"])
        if r["spot_usd_hr"]:
            prices.append(["gcp", r["region"], r["machine_type"], "spot", r["spot_usd_hr"], "list"])
    for name, (vcpu, mem) in specs.items():
        arch = "arm64" if name.startswith(("t2a", "c4a")) else "amd64"
        types.append(["gcp", name, name.split("-")[0], arch, vcpu, mem, "0", "", "", "110", "estimated"])


def _azure(ds: Path, types: list[list[str]], prices: list[list[str]]) -> None:
    sizes = {r["vm_size"]: r for r in _read(ds / "azure-vm-catalog" / "azure_vm_sizes.csv")}
    priced: set[str] = set()
    for r in _read(ds / "azure-vm-catalog" / "azure_ondemand_prices.csv"):
        if r["is_vm_size"] == "true" and r["sku"] in sizes:
            prices.append(["azure", r["region"], r["sku"], "on-demand", r["usd_per_hour"], "list"])
            priced.add(r["sku"])
    for name in sorted(priced):
        s = sizes[name]
        types.append(
            [
                "azure",
                name,
                s["sku_family"],
                s["arch"],
                s["vcpu"],
                s["memory_mib"],
                s["gpu"],
                "",
                "",
                "110",
                "estimated",
            ]
        )


def main(argv: list[str]) -> int:
    ds = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[3] / "shared" / "datasets"
    if not ds.is_dir():
        print(f"error: datasets folder not found: {ds}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    types: list[list[str]] = []
    prices: list[list[str]] = []
    _aws(ds, types, prices)
    _gcp(ds, types, prices)
    _azure(ds, types, prices)
    _write("instance_types.csv.gz", TYPE_COLUMNS, types)
    _write("prices.csv.gz", PRICE_COLUMNS, prices)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
