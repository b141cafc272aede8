"""How cost answers read to people: the artifacts the real cost tools return, presented as Markdown."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tools.base import ToolContext
from tools.cost import build_tools
from tools.present import present, readable

EXAMPLES = Path(__file__).parents[2] / "tools" / "cost" / "examples"


def _call(ctx: ToolContext, name: str, args: dict[str, Any]) -> tuple[str, Any]:
    tool = next(t for t in build_tools(ctx) if t.name == name)
    message = tool.invoke({"type": "tool_call", "name": name, "args": args, "id": "call-1"})
    return str(message.content), message.artifact


@pytest.fixture(scope="module")
def report() -> tuple[str, dict[str, Any]]:
    ctx = ToolContext(
        extras={
            "cluster_snapshot": str(EXAMPLES / "shop_cluster.json"),
            "usage_file": str(EXAMPLES / "shop_usage.json.gz"),
        }
    )
    content, artifact = _call(ctx, "optimize_cost", {})
    assert artifact["kind"] == "cost.report"
    return content, artifact


def _money(x: float) -> str:
    return f"${x:,.2f}"


def test_a_plan_that_costs_more_says_so_instead_of_a_negative_saving(
    report: tuple[str, dict[str, Any]],
) -> None:
    """A namespace planned alone can cost more than its share of today's nodes: `opsgraph ask` on the 1.5B
    model read "saving $-35.90 (-32.53%)"."""
    _, artifact = report
    dearer = copy.deepcopy(artifact)
    now = dearer["current_monthly"]
    dearer["savings"].update(total_monthly=-35.9, node_plan_monthly=-35.9, rightsizing_monthly=0.0)
    md = present(dearer) or ""
    assert f"costing $35.90 more ({35.9 / now * 100:.2f}%)" in md.splitlines()[0]
    assert "(costs $35.90 more)" in md and "(saves $0.00 more)" in md
    assert "$-" not in md


def test_report_headline_has_the_artifacts_figures(report: tuple[str, dict[str, Any]]) -> None:
    content, artifact = report
    md = present(artifact)
    assert md is not None and readable(content, artifact) == md
    head = md.splitlines()[0]
    now, planned = artifact["current_monthly"], artifact["recommended_monthly"]
    saving = artifact["savings"]["total_monthly"]
    assert head.startswith("### Cost of the cluster:")
    assert f"{_money(now)} → {_money(planned)}" in head
    assert f"saving {_money(saving)} ({saving / now * 100:.2f}%)" in head
    for key in ("node_plan_monthly", "rightsizing_monthly"):
        assert f"saves {_money(artifact['savings'][key])}" in md
    plan = artifact["plan"]
    assert f"{_money(plan['monthly_cost'])}/month" in md and _money(plan["lower_bound"]) in md
    # the shop example is solved to optimality; the words follow the status, nothing else
    assert plan["status"] == "optimal" and "**proven optimal**" in md
    # the nodes as a table, one row per group with its count and capacity type
    for group in plan["nodes"]:
        row = f"| {group['instance_type']} | {group['count']} | {group['capacity_type']} |"
        assert row in md
    # no JSON, no raw artifact keys
    assert "{" not in md and "}" not in md and '"' + "kind" not in md and "usd_per_hour" not in md


def test_report_rightsizing_namespaces_notes_and_a_long_nodepool_described(
    report: tuple[str, dict[str, Any]],
) -> None:
    _, artifact = report
    md = present(artifact) or ""
    for rec in artifact["rightsizing"]:
        before, after = rec["current"]["cpu_request_m"], rec["recommended"]["cpu_request_m"]
        assert f"| {rec['workload']} | {rec['container']} | {before:g}m → {after:g}m |" in md
    for ns, monthly in artifact["cost_by_namespace"]["current"].items():
        assert f"| {ns} | {_money(monthly)} |" in md
    # the proposal is long: named and pointed to, not printed
    proposal = artifact["nodepool_proposal"]
    assert len(proposal.splitlines()) > 40
    assert "```yaml" not in md and "apiVersion" not in md
    assert "opsgraph cost plan --nodepool" in md and "`opsgraph-fallback`" in md
    # the engine's notes keep their code spans, with spaces around them
    assert artifact["notes"] and "annotate a workload `opsgraph.io/multi-arch" in md


def test_status_words_follow_the_artifact(report: tuple[str, dict[str, Any]]) -> None:
    _, artifact = report
    feasible = copy.deepcopy(artifact)
    feasible["plan"].update(status="feasible", lower_bound=209.33, gap=0.0324)
    md = present(feasible) or ""
    assert "**not proven optimal**" in md and "proven lower bound $209.33" in md and "gap 3.24%" in md
    assert "**proven optimal**" not in md
    for status in ("unknown", "timeout"):
        unknown = copy.deepcopy(artifact)
        unknown["plan"]["status"] = status
        md = present(unknown) or ""
        assert f"status {status}: **nothing proven**" in md
        assert "**proven optimal**" not in md and "proven lower bound" not in md


def test_short_nodepool_is_shown_as_yaml_and_text_is_escaped(report: tuple[str, dict[str, Any]]) -> None:
    _, artifact = report
    short = copy.deepcopy(artifact)
    # the first NodePool of the real proposal: short enough to print
    short["nodepool_proposal"] = "---".join(artifact["nodepool_proposal"].split("---")[:2])
    short["notes"] = ["web | <b>bold</b> *x*"]
    short["plan"]["unplaceable"] = {"shop/Deployment/big": 2}
    short["plan"]["unplaceable_reasons"] = {"shop/Deployment/big": "needs 200 CPUs"}
    md = present(short) or ""
    assert "```yaml\n" in md and "kind: NodePool" in md and "opsgraph cost plan --nodepool" not in md
    assert r"web \| \<b\>bold\</b\> \*x\*" in md
    assert "shop/Deployment/big: 2 pod(s) cannot be placed: needs 200 CPUs" in md


def test_rightsize_tool_artifact_and_errors_fall_back_to_text(tmp_path: Path) -> None:
    ctx = ToolContext(
        extras={
            "cluster_snapshot": str(EXAMPLES / "shop_cluster.json"),
            "usage_file": str(EXAMPLES / "shop_usage.json.gz"),
        }
    )
    content, artifact = _call(ctx, "rightsize", {"namespace": "shop"})
    assert artifact["kind"] == "cost.rightsizing" and artifact["recommendations"] == json.loads(content)
    md = readable(content, artifact)
    changed = [r for r in artifact["recommendations"] if r["current"] != r["recommended"]]
    assert md.startswith(f"### Right-sizing in namespace shop: {len(changed)} containers to change")
    for rec in changed:
        before, after = rec["current"]["memory_request_mib"], rec["recommended"]["memory_request_mib"]
        assert f"{before:g}Mi → {after:g}Mi" in md
    assert "{" not in md
    # a failed call has no artifact: the error reads as the tool's text
    bad = tmp_path / "snapshot.json"
    bad.write_text("{not json")
    content, artifact = _call(ToolContext(extras={"cluster_snapshot": str(bad)}), "optimize_cost", {})
    assert artifact is None and "error" in json.loads(content)
    assert "error" in readable(content, artifact).lower()


def test_price_and_apply_artifacts_read_as_markdown(tmp_path: Path) -> None:
    content, artifact = _call(
        ToolContext(), "price_lookup", {"instance_type": "m7i.large", "capacity_type": "spot"}
    )
    assert (
        artifact["kind"] == "cost.price" and artifact["usd_per_hour"] == json.loads(content)["usd_per_hour"]
    )
    md = readable(content, artifact)
    hourly = artifact["usd_per_hour"]
    assert md.startswith(
        f"### m7i.large spot (aws/us-east-1): ${hourly:g}/hour, {_money(hourly * 730)}/month"
    )
    assert "**estimate**" in md and f"spot interruption frequency: {artifact['interruption_label']}" in md
    content, artifact = _call(ToolContext(), "price_lookup", {"instance_type": "m7i.large"})
    assert "list price" in readable(content, artifact) and "estimate" not in readable(content, artifact)
    content, artifact = _call(ToolContext(), "price_lookup", {"instance_type": "nope.large"})
    assert artifact is None and "nope.large" in readable(content, artifact)
    applied = {
        "kind": "cost.apply",
        "workload": "shop/Deployment/web",
        "changed": True,
        "diff": ["shop/Deployment/web/web cpu_request: 1000m -> 120m"],
        "cost_delta_monthly_usd": -52.5,
    }
    md = present(applied) or ""
    assert md.startswith("### Right-sized shop/Deployment/web: saves $52.50 a month")
    assert md.endswith("- shop/Deployment/web/web cpu\\_request: 1000m -\\> 120m")
    same = present(
        {
            "kind": "cost.apply",
            "workload": "ops/StatefulSet/db",
            "changed": False,
            "reason": "already right-sized",
        }
    )
    assert same == "### ops/StatefulSet/db: not changed\n\nalready right-sized"


def test_report_states_the_migration_in_brief(report: tuple[str, dict[str, Any]]) -> None:
    _, artifact = report
    m = artifact["migration"]
    md = present(artifact) or ""
    launched = sum(m["launch"].values())
    assert (
        f"**Migration**: launch {launched} nodes, then {m['evictions']} evictions in {m['waves']} wave" in md
    )
    blocked = copy.deepcopy(artifact)
    blocked["migration"]["blocked"] = {"shop/db-0": "PDB shop/db allows no disruption"}
    assert "⚠ shop/db-0: PDB shop/db allows no disruption" in (present(blocked) or "")


def test_spot_prices_that_are_estimates_say_so(report: tuple[str, dict[str, Any]]) -> None:
    _, artifact = report
    md = present(artifact) or ""
    spot = [g for g in artifact["plan"]["nodes"] if g["capacity_type"] == "spot"]
    assert spot and "spot-advisor-estimate" in artifact["price_sources"]
    for g in spot:
        assert f"| ${g['usd_per_hour']} (estimate) |" in md
    listed = copy.deepcopy(artifact)
    listed["price_sources"] = ["list"]
    assert "(estimate)" not in (present(listed) or "")


def test_commitment_bills_are_shown_beside_the_list_prices(report: tuple[str, dict[str, Any]]) -> None:
    _, artifact = report
    assert artifact.get("commitments") is None  # no price file: no commitment line
    assert "your commitments" not in (present(artifact) or "")
    billed = copy.deepcopy(artifact)
    billed["commitments"] = {"current_monthly": 660.0, "node_plan_monthly": 500.0, "recommended_monthly": 581.33,
                             "saving_monthly": 78.67, "lines": ["RI 1y: 0 of 2 reserved m7i.2xlarge used, $0.5/h"]}  # fmt: skip
    md = present(billed) or ""
    assert (
        "with your commitments (paid used or not, before on-demand): $660.00 → $581.33 (saving $78.67)" in md
    )
    assert "  - RI 1y: 0 of 2 reserved m7i.2xlarge used, $0.5/h" in md
