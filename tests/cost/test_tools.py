"""The cost tools as the agent sees them: names, argument schemas, the mutating declaration, answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.settings import load_settings
from agents.tool_context import tool_context_for
from tools.base import ToolContext, is_mutating, preview_call
from tools.cost import build_tools

EXAMPLES = Path(__file__).parents[2] / "tools" / "cost" / "examples"


@pytest.fixture
def ctx() -> ToolContext:
    return ToolContext(
        extras={
            "cluster_snapshot": str(EXAMPLES / "shop_cluster.json"),
            "usage_file": str(EXAMPLES / "shop_usage.json.gz"),
        }
    )


def test_tool_names_and_the_fixed_optimize_cost_signature(ctx: ToolContext) -> None:
    tools = {t.name: t for t in build_tools(ctx)}
    assert {"optimize_cost", "rightsize", "price_lookup", "apply_rightsizing"} <= set(tools)
    assert list(tools["optimize_cost"].args) == ["namespace"]
    assert is_mutating(tools["apply_rightsizing"]) and not is_mutating(tools["optimize_cost"])
    read_only = {t.name for t in build_tools(ToolContext(read_only=True))}
    assert "apply_rightsizing" not in read_only


def test_optimize_cost_reports_bound_gap_and_savings(ctx: ToolContext) -> None:
    tool = next(t for t in build_tools(ctx) if t.name == "optimize_cost")
    out = json.loads(tool.invoke({"namespace": "shop"}))
    plan = out["plan"]
    assert plan["lower_bound"] <= plan["monthly_cost"] and 0 <= plan["gap"] <= 1
    s = out["savings"]
    assert s["total_monthly"] == pytest.approx(out["current_monthly"] - out["recommended_monthly"], abs=0.02)
    assert set(out["cost_by_namespace"]["current"]) == {"shop"}
    assert "kind: NodePool" in out["nodepool_proposal"]


def test_preview_of_apply_gives_diff_and_cost_delta(ctx: ToolContext) -> None:
    tool = next(t for t in build_tools(ctx) if t.name == "apply_rightsizing")
    preview = preview_call(tool, {"namespace": "shop", "workload": "web"})
    assert any(line.startswith("shop/Deployment/web/web cpu_request: 1000m -> ") for line in preview["diff"])
    assert preview["cost_delta_monthly_usd"] < 0


def test_price_lookup_and_bad_input(ctx: ToolContext, tmp_path: Path) -> None:
    tool = next(t for t in build_tools(ctx) if t.name == "price_lookup")
    spot = json.loads(tool.invoke({"instance_type": "m7i.large", "capacity_type": "spot"}))
    assert spot["source"] == "spot-advisor-estimate" and spot["interruption_label"]
    assert (
        "unknown region"
        in json.loads(tool.invoke({"instance_type": "m7i.large", "region": "mars-1"}))["error"]
    )
    overrides = tmp_path / "prices.toml"
    overrides.write_text('[[override]]\ninstance_type = "m7i.*"\ndiscount_pct = 30\nlabel = "Savings Plan"\n')
    sp = ToolContext(extras={"cost_prices": str(overrides)})
    tool = next(t for t in build_tools(sp) if t.name == "price_lookup")
    quote = json.loads(tool.invoke({"instance_type": "m7i.large"}))
    assert quote["source"] == "override:Savings Plan"
    assert quote["usd_per_hour"] == pytest.approx(0.1008 * 0.7)


def test_price_overrides_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = tmp_path / "prices.json"
    rules.write_text(
        json.dumps({"override": [{"instance_type": "m7i.large", "usd_per_hour": 0.05, "label": "RI"}]})
    )
    monkeypatch.setenv("OPSGRAPH_COST_PRICES", str(rules))
    # the setting reaches the tool in the context the runtime builds from the settings, not by the tool reading it
    tool = next(t for t in build_tools(tool_context_for(load_settings())) if t.name == "price_lookup")
    quote = json.loads(tool.invoke({"instance_type": "m7i.large"}))
    assert (quote["usd_per_hour"], quote["source"]) == (0.05, "override:RI")
    rules.write_text(
        json.dumps({"override": [{"instance_type": "m7i.large", "usd_per_hour": 1, "discount_pct": 5}]})
    )
    err = json.loads(tool.invoke({"instance_type": "m7i.large"}))["error"]
    assert "/override/0:" in err and "exactly one of usd_per_hour or discount_pct" in err


def test_apply_accepts_the_workload_ids_rightsize_prints(ctx: ToolContext) -> None:
    from typer.testing import CliRunner

    from opsgraph.cli import app

    offline = ["--snapshot", ctx.extras["cluster_snapshot"], "--usage-file", ctx.extras["usage_file"]]
    result = CliRunner().invoke(app, ["cost", "rightsize", *offline, "--json"])
    assert result.exit_code == 0, result.output
    ids = sorted({r["workload"] for r in json.loads(result.output)})
    assert "shop/Deployment/web" in ids
    tool = next(t for t in build_tools(ctx) if t.name == "apply_rightsizing")
    for workload_id in ids:
        namespace, kind, name = workload_id.split("/")
        for args in (
            {"workload": workload_id},
            {"namespace": namespace, "workload": workload_id},
            {"namespace": namespace, "workload": f"{kind}/{name}"},
        ):
            preview = preview_call(tool, args)
            assert "preview_error" not in preview, (args, preview)
            assert preview["summary"] == f"patch requests/limits of {kind} {namespace}/{name}"
    # past the lookup, an offline snapshot has nothing to patch: said so, nothing else
    content = tool.invoke({"workload": "shop/Deployment/web"})
    assert "no cluster to patch" in json.loads(content)["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"workload": "shop/Deployment/nope"}, "'shop/Deployment/nope' in namespace 'shop': no Deployment"),
        ({"namespace": "ops", "workload": "shop/Deployment/web"}, "is in namespace 'shop', not 'ops'"),
        ({"workload": "web"}, "'web': give namespace/Kind/name as rightsize prints it"),
        ({"workload": "shop/DaemonSet/web"}, "kind 'DaemonSet' is not Deployment or StatefulSet"),
        ({"workload": "a/b/c/d", "namespace": "shop"}, "'a/b/c/d': give namespace/Kind/name"),
    ],
)
def test_a_bad_workload_id_is_an_error_naming_it(
    ctx: ToolContext, args: dict[str, str], message: str
) -> None:
    tool = next(t for t in build_tools(ctx) if t.name == "apply_rightsizing")
    assert message in preview_call(tool, args)["preview_error"]
    assert message in json.loads(tool.invoke(args))["error"]


def test_aws_regions_of_the_spot_advisor_price_spot_from_given_list_prices(tmp_path: Path) -> None:
    from tools.cost.catalog import CatalogError, PriceCatalog, load_overrides
    from tools.cost.engine import default_offerings

    assert {"eu-west-1", "ap-southeast-2", "sa-east-1"} <= set(PriceCatalog.regions("aws"))
    with pytest.raises(CatalogError, match="list prices ship for us-east-1 and GovCloud only"):
        PriceCatalog("aws", "eu-west-1").quote("m7i.large", "spot")
    with pytest.raises(CatalogError, match="no priced instance types in aws/eu-west-1"):
        default_offerings(PriceCatalog("aws", "eu-west-1"))
    rules = tmp_path / "prices.toml"
    rules.write_text(
        '[[override]]\nregion = "eu-west-1"\ninstance_type = "m7i.large"\nusd_per_hour = 0.112\n'
        'list_price = true\nlabel = "eu-west-1 list 2026-11"\n'
    )
    catalog = PriceCatalog("aws", "eu-west-1", load_overrides(rules))
    od, spot = catalog.quote("m7i.large"), catalog.quote("m7i.large", "spot")
    assert (od.usd_per_hour, od.source) == (0.112, "list:eu-west-1 list 2026-11")
    assert spot.source == "spot-advisor-estimate" and spot.interruption_label
    assert 0 < spot.usd_per_hour < 0.112
    offerings = default_offerings(catalog)
    assert {o.name for o in offerings} == {"m7i.large/on-demand", "m7i.large/spot"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[[override]]\ninstance_type = "m7i.*"\ndiscount_pct = 10\nlist_price = true\n')
    with pytest.raises(CatalogError, match="list_price rule gives usd_per_hour"):
        load_overrides(bad)


@pytest.mark.parametrize(
    ("cloud", "region", "instance_type"),
    [("azure", "eastus", "Standard_D4s_v5"), ("aws", "us-gov-west-1", "m7i.xlarge")],
)
def test_spot_list_prices_from_the_price_file_give_azure_and_govcloud_spot(
    tmp_path: Path, cloud: str, region: str, instance_type: str
) -> None:
    """No spot prices ship for Azure or GovCloud: the price file's spot list prices are used as given,
    labelled, and the planner uses them within the workloads' spot share."""
    from tools.cost.catalog import CatalogError, PriceCatalog, load_overrides
    from tools.cost.engine import default_offerings
    from tools.cost.plan import plan_nodes
    from verifiers.cost import PlanProblem, Workload, validate_plan

    with pytest.raises(
        CatalogError, match=f'no spot prices ship for {cloud}/{region}.*capacity_type = "spot"'
    ):
        PriceCatalog(cloud, region).quote(instance_type, "spot")
    od = PriceCatalog(cloud, region).quote(instance_type).usd_per_hour
    rules = tmp_path / "prices.toml"
    rules.write_text(
        f'[[override]]\ncloud = "{cloud}"\nregion = "{region}"\ninstance_type = "{instance_type}"\n'
        f'capacity_type = "spot"\nusd_per_hour = {round(od * 0.3, 4)}\nlist_price = true\nlabel = "spot 2026-12"\n'
    )
    catalog = PriceCatalog(cloud, region, load_overrides(rules))
    spot = catalog.quote(instance_type, "spot")
    assert (spot.usd_per_hour, spot.source) == (round(od * 0.3, 4), "list:spot 2026-12")
    offerings = [o for o in default_offerings(catalog) if o.instance_type == instance_type]
    assert {o.capacity_type for o in offerings} == {"on-demand", "spot"}
    web = Workload(name="shop/Deployment/web", replicas=8, cpu_m=500, memory_mib=1024,
                   spot_allowed=True, max_spot_share=0.5)  # fmt: skip
    problem = PlanProblem(workloads=[web], offerings=offerings)
    plan = plan_nodes(problem)
    assert validate_plan(problem, plan).ok
    spot_pods = sum(n.pods.get(web.name, 0) for n in plan.nodes if n.offering.endswith("/spot"))
    assert spot_pods == 4  # the cheap spot nodes take the spot share, no more
    wide = tmp_path / "wide.toml"
    wide.write_text('[[override]]\ncapacity_type = "*"\nusd_per_hour = 0.1\nlist_price = true\n')
    with pytest.raises(CatalogError, match=r"/override/0: .*one capacity_type \(on-demand or spot\)"):
        load_overrides(wide)


def test_a_runtime_built_from_settings_alone_gives_its_tools_the_price_file(tmp_path: Path) -> None:
    from agents.runtime import Runtime
    from agents.settings import Settings

    rules = tmp_path / "prices.json"
    rules.write_text(json.dumps({"override": [{"instance_type": "m7i.large", "usd_per_hour": 0.05}]}))
    settings = Settings(model="offline", cost_prices=rules, checkpoint_url=f"sqlite:///{tmp_path / 'c.db'}")
    with Runtime(settings) as runtime:
        assert runtime.tool_context.extras["cost_prices"] == str(rules)
        tool = next(t for t in build_tools(runtime.tool_context) if t.name == "price_lookup")
        assert json.loads(tool.invoke({"instance_type": "m7i.large"}))["usd_per_hour"] == 0.05
