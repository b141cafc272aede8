"""`opsgraph cost ...` on the shipped example cluster (recorded snapshot and usage)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli import app

EXAMPLES = Path(__file__).parents[2] / "tools" / "cost" / "examples"
OFFLINE = [
    "--snapshot",
    str(EXAMPLES / "shop_cluster.json"),
    "--usage-file",
    str(EXAMPLES / "shop_usage.json.gz"),
]


def test_plan_json_has_the_documented_fields() -> None:
    result = CliRunner().invoke(app, ["cost", "plan", *OFFLINE, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    for key in (
        "monthly_cost",
        "lower_bound",
        "gap",
        "nodes",
        "spot_share",
        "expected_interruptions_per_month",
    ):
        assert key in plan
    assert plan["lower_bound"] <= plan["monthly_cost"]


def test_report_writes_a_png_and_adds_up(tmp_path: Path) -> None:
    png = tmp_path / "cost.png"
    result = CliRunner().invoke(app, ["cost", "report", *OFFLINE, "--plot", str(png), "--json"])
    assert result.exit_code == 0, result.output
    rep = json.loads(result.output)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cur = rep["current_allocation"]
    assert sum(cur["by_namespace"].values()) + cur["idle_usd_per_hour"] == __import__("pytest").approx(
        cur["total_usd_per_hour"]
    )


def test_errors_are_one_line() -> None:
    result = CliRunner().invoke(app, ["cost", "price", "m7i.large", "--region", "nowhere-1"])
    assert result.exit_code == 1
    assert result.output.startswith("error: unknown region 'nowhere-1' for aws")
    result = CliRunner().invoke(app, ["cost", "plan", "--snapshot", str(EXAMPLES / "shop_cluster.json")])
    assert result.exit_code == 1 and "--snapshot needs --usage-file" in result.output


def test_rightsize_percentile_is_configurable() -> None:
    runner = CliRunner()
    p95 = json.loads(runner.invoke(app, ["cost", "rightsize", *OFFLINE, "--json"]).output)
    p50 = json.loads(
        runner.invoke(app, ["cost", "rightsize", *OFFLINE, "--json", "--cpu-percentile", "50"]).output
    )
    web95 = next(r for r in p95 if r["container"] == "web")["recommended"]["cpu_request_m"]
    web50 = next(r for r in p50 if r["container"] == "web")["recommended"]["cpu_request_m"]
    assert web50 < web95
    bad = runner.invoke(app, ["cost", "rightsize", *OFFLINE, "--cpu-percentile", "150"])
    assert bad.exit_code == 1 and "--cpu-percentile: Input should be less than or equal to 100" in bad.output


def test_plan_labels_spot_estimates() -> None:
    result = CliRunner().invoke(app, ["cost", "plan", *OFFLINE])
    assert result.exit_code == 0, result.output
    spot = [line for line in result.output.splitlines() if " spot " in line]
    assert spot and all(line.endswith("/h (Spot Advisor estimate)") for line in spot)
