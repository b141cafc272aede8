"""Commitments from the price file: reserved instances, then Savings Plans, before on-demand; paid whether
used or not; the report's bills and a bad file's errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli import app
from tools.cost.catalog import CatalogError
from tools.cost.commitments import Commitment, apply_commitments, load_commitments

EXAMPLES = Path(__file__).parents[2] / "tools" / "cost" / "examples"


def test_reserved_first_then_the_savings_plan_then_on_demand() -> None:
    nodes = [("m7i.large", "on-demand", 0.1), ("m7i.large", "on-demand", 0.1), ("m7i.large", "on-demand", 0.1),
             ("c7i.large", "on-demand", 0.09), ("c7i.large", "spot", 0.03)]  # fmt: skip
    ri = Commitment(kind="reserved", instance_type="m7i.large", count=2, usd_per_hour=0.06, label="RI")
    sp = Commitment(kind="savings-plan", instance_type="*", usd_per_hour=0.075, discount_pct=25, label="SP")
    bill = apply_commitments(nodes, [ri, sp], "us-east-1")
    # 2 RIs (0.12) cover two m7i; the SP (0.075 buys 0.10 of list) covers the third m7i; c7i on demand; spot
    assert bill.usd_per_hour == pytest.approx(0.12 + 0.075 + 0.09 + 0.03)
    assert bill.list_usd_per_hour == pytest.approx(0.42)
    assert bill.lines[0] == "RI: 2 of 2 reserved m7i.large used, $0.12/h"
    # unused commitments are still paid: no nodes, the bill is what was committed
    idle = apply_commitments([], [ri, sp], "us-east-1")
    assert idle.usd_per_hour == pytest.approx(0.12 + 0.075) and "0 of 2" in idle.lines[0]
    # a Savings Plan bigger than the spend: the spend is covered, the commitment paid
    big = Commitment(kind="savings-plan", usd_per_hour=1.0, discount_pct=20)
    assert apply_commitments(nodes, [big], "us-east-1").usd_per_hour == pytest.approx(1.0 + 0.03)
    # another region's commitment covers nothing here
    elsewhere = ri.model_copy(update={"region": "eu-*"})
    assert apply_commitments(nodes, [elsewhere], "us-east-1").usd_per_hour == pytest.approx(0.12 + 0.42)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[commitment]]\nkind = "reserved"\nusd_per_hour = 0.1\n',
            "/commitment/0: Value error, a reserved commitment gives count",
        ),
        (
            '[[commitment]]\nkind = "savings-plan"\nusd_per_hour = 1\n',
            "a savings-plan commitment gives discount_pct",
        ),
        ('[[commitment]]\nkind = "spot-block"\nusd_per_hour = 1\n', "/commitment/0/kind"),
        ("[[commitment]\n", "cannot read commitments"),
    ],
)
def test_a_bad_commitment_is_an_error_naming_it(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(body)
    with pytest.raises(CatalogError, match=r"prices\.toml") as err:
        load_commitments(path)
    assert message in str(err.value)


def test_the_report_bills_today_and_the_plan_with_the_commitments(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[[commitment]]\nkind = "reserved"\ninstance_type = "m7i.2xlarge"\ncount = 2\nusd_per_hour = 0.25\n'
        'label = "RI 1y"\n'
    )
    offline = [
        "--snapshot",
        str(EXAMPLES / "shop_cluster.json"),
        "--usage-file",
        str(EXAMPLES / "shop_usage.json.gz"),
    ]
    result = CliRunner().invoke(app, ["cost", "report", *offline, "--prices", str(prices), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    bills = report["commitments"]
    # today: 3 x m7i.2xlarge on demand (0.4032/h), two of them reserved at 0.25
    assert bills["current_monthly"] == pytest.approx(round((2 * 0.25 + 0.4032) * 730, 2))
    # the plan uses no m7i.2xlarge: the reservation is still paid on top of the plan's nodes
    assert bills["recommended_monthly"] == pytest.approx(
        report["recommended_monthly"] + 2 * 0.25 * 730, abs=0.02
    )
    assert bills["saving_monthly"] == pytest.approx(bills["current_monthly"] - bills["recommended_monthly"])
    assert bills["lines"] == ["RI 1y: 0 of 2 reserved m7i.2xlarge used, $0.5/h"]
    assert any("does not seek out committed instance types" in n for n in report["notes"])
