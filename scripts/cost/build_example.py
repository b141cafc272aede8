"""Build the example cluster in tools/cost/examples/ from Azure Public Dataset V1 CPU traces (CC-BY-4.0).

Run from the repository root: `.venv/bin/python scripts/cost/build_example.py [DATASETS_DIR]`.
Each example pod's CPU is one Azure VM's 5-minute max-CPU trace (percent of the VM's vCPUs) scaled to the
pod's request, kept at 1-hour resolution (max of twelve 5-minute values) for 14 days; memory is synthetic.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import sys
from pathlib import Path

__all__ = ["main"]

OUT = Path(__file__).resolve().parents[2] / "tools" / "cost" / "examples"
# (namespace, kind, name, replicas, cpu request m, memory MiB, peak cpu cores, memory peak MiB, spot annotation)
WORKLOADS = [
    ("shop", "Deployment", "web", 4, 1000, 2048, 0.6, 700, None),
    ("shop", "Deployment", "cart", 3, 500, 1024, 0.25, 380, None),
    ("shop", "StatefulSet", "db", 1, 2000, 8192, 1.5, 5200, None),
    ("ops", "Deployment", "metrics", 2, 1000, 4096, 0.2, 900, "false"),
]


def main(argv: list[str]) -> int:
    ds = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[3] / "shared" / "datasets"
    traces: dict[str, list[float]] = {}
    with gzip.open(ds / "azure-v1-vm-cpu-traces" / "azure_v1_cpu_100vms_5min.csv.gz", "rt") as fh:
        for row in csv.DictReader(io.StringIO(fh.read())):
            traces.setdefault(row["vm_id"], []).append(float(row["cpu_max_pct"]))
    vms = sorted(traces)
    series, workloads, nodes = [], [], []
    k = 0
    t0 = 1_700_000_000.0
    for ns, kind, name, replicas, cpu_m, mem, peak, mem_peak, spot in WORKLOADS:
        pods = []
        for r in range(replicas):
            trace = traces[vms[k % len(vms)]][: 14 * 288]
            k += 1
            hourly = [max(trace[i : i + 12]) for i in range(0, len(trace), 12)]
            top = max(hourly) or 1.0
            pod = f"{name}-{r}" if kind == "StatefulSet" else f"{name}-5d8f-{r}"
            pods.append({"name": pod, "node": f"node-{len(pods) % 3}"})
            series.append({
                "namespace": ns, "pod": pod, "container": name,
                "cpu_cores": [[t0 + 3600 * i, round(v / top * peak, 4)] for i, v in enumerate(hourly)],
                "memory_bytes": [[t0 + 3600 * i, round(mem_peak * 2**20 * (0.7 + 0.3 * math.sin(i / 24) ** 2))]
                                 for i in range(len(hourly))],
            })  # fmt: skip
        res = {"cpu_request_m": cpu_m, "memory_request_mib": mem, "memory_limit_mib": mem}
        workloads.append({
            "namespace": ns, "kind": kind, "name": name, "replicas": replicas, "containers": {name: res},
            "pods": pods, "spot_allowed": spot != "false" and kind == "Deployment" and replicas >= 2,
            "max_spot_share": 0.5, "min_spot_pools": 2,
        })  # fmt: skip
    for i in range(3):
        nodes.append({"name": f"node-{i}", "instance_type": "m7i.2xlarge", "capacity_type": "on-demand",
                      "cpu_m": 7910, "memory_mib": 29317})  # fmt: skip
    (OUT / "shop_cluster.json").write_text(
        json.dumps({"workloads": workloads, "nodes": nodes}, indent=1) + "\n"
    )
    with open(OUT / "shop_usage.json.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(json.dumps({"series": series}).encode())
    print(f"{len(workloads)} workloads, {len(series)} pods")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
