"""`opsgraph cost ...`: Cost: right-sizing, node plans with proven bounds, savings.

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

__all__ = ["app"]

app = typer.Typer(help="Cost: right-sizing, node plans with proven bounds, savings.", no_args_is_help=True)

_NS = typer.Option(None, "--namespace", "-n", help="Only this namespace.")
_SNAPSHOT = typer.Option(
    None, "--snapshot", help="Workloads and nodes from a JSON file instead of the cluster."
)
_USAGE = typer.Option(
    None, "--usage-file", help="Recorded usage series (JSON or .json.gz) instead of Prometheus."
)
_PROM = typer.Option(
    None, "--prometheus-url", help="Prometheus base URL (default: the cluster's API server)."
)
_CLOUD = typer.Option("aws", "--cloud", help="aws, gcp or azure.")
_REGION = typer.Option("us-east-1", "--region")
_PRICES = typer.Option(
    None, "--prices", help="Price overrides (TOML/JSON): discounts, Savings Plan, reserved."
)
_EFFORT = typer.Option(
    1.0,
    "--effort",
    min=0.05,
    max=3.0,
    help="Solver work limit, scaled (plans do not depend on the machine's load).",
)
_JSON = typer.Option(False, "--json", help="Machine-readable output.")
_PCT = typer.Option(95.0, "--cpu-percentile", help="CPU request = this percentile of usage (krr: 95).")
_BUF = typer.Option(15.0, "--memory-buffer", help="Memory = peak working set + this percent (krr: 15).")
_DAYS = typer.Option(14.0, "--history-days", help="Usage history to read (krr: 14 days).")


def _strategy(cpu_percentile: float, memory_buffer: float, history_days: float) -> Any:
    from pydantic import ValidationError

    from tools.cost.rightsize import RightsizeStrategy

    try:
        return RightsizeStrategy(
            cpu_percentile=cpu_percentile, memory_buffer_pct=memory_buffer, history_days=history_days
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise _fail(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _run(
    namespace: str | None,
    snapshot: Path | None,
    usage_file: Path | None,
    prometheus_url: str | None,
    cloud: str,
    region: str,
    prices: Path | None,
    effort: float,
    strategy: Any = None,
    reconcile: bool = True,
) -> Any:
    from pydantic import ValidationError

    from opsgraph.settings import load_settings
    from tools.base import ToolContext
    from tools.cost.catalog import CatalogError
    from tools.cost.cluster import ClusterSnapshot, read_cluster
    from tools.cost.connect import api_client_for, catalog_for, usage_source_for
    from tools.cost.engine import optimize
    from tools.cost.usage import RecordedUsageSource, UsageError

    settings = load_settings()
    extras: dict[str, Any] = {"cloud": cloud, "region": region}
    if prices or settings.cost_prices:
        extras["cost_prices"] = str(prices or settings.cost_prices)
    if prometheus_url:
        extras["prometheus_url"] = prometheus_url
    ctx = ToolContext(
        kubeconfig=settings.resolved_kubeconfig(), kube_context=settings.kube_context, extras=extras
    )
    try:
        catalog = catalog_for(ctx)
        if snapshot is not None:
            try:
                snap = ClusterSnapshot.model_validate_json(snapshot.read_text())
            except OSError as exc:
                raise _fail(f"{snapshot}: {exc.strerror}") from None
            except ValidationError as exc:
                err = exc.errors()[0]
                raise _fail(f"{snapshot}: /{'/'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
            if usage_file is None:
                raise _fail("--snapshot needs --usage-file (there is no cluster to ask for usage)")
            source: Any = RecordedUsageSource(usage_file)
        else:
            configured = settings.resolved_kubeconfig() is not None or bool(settings.kube_context)
            if not configured and not Path.home().joinpath(".kube", "config").exists():
                raise _fail("no cluster configured: set KUBECONFIG (e.g. the sandbox's) or pass --snapshot")
            api = api_client_for(ctx)
            snap = read_cluster(api)  # every namespace: the nodes' cost is shared out over all of them
            source = RecordedUsageSource(usage_file) if usage_file else usage_source_for(ctx, api)
        return optimize(
            snap, source, catalog, strategy, effort=effort, namespace=namespace, reconcile=reconcile
        )
    except (CatalogError, UsageError) as exc:
        raise _fail(str(exc)) from None


def _money(x: float) -> str:
    return f"${x:,.2f}"


@app.command()
def report(
    namespace: str | None = _NS,
    snapshot: Path | None = _SNAPSHOT,
    usage_file: Path | None = _USAGE,
    prometheus_url: str | None = _PROM,
    cloud: str = _CLOUD,
    region: str = _REGION,
    prices: Path | None = _PRICES,
    effort: float = _EFFORT,
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG of cost per namespace, before/after."),
    cpu_percentile: float = _PCT,
    memory_buffer: float = _BUF,
    history_days: float = _DAYS,
    as_json: bool = _JSON,
) -> None:
    """Current vs recommended monthly cost, per namespace (OpenCost allocation), savings counted once."""
    strategy = _strategy(cpu_percentile, memory_buffer, history_days)
    rep = _run(namespace, snapshot, usage_file, prometheus_url, cloud, region, prices, effort, strategy)
    if plot is not None:
        from tools.cost.plot import plot_namespaces

        try:
            plot_namespaces(rep, plot)
        except ImportError:
            raise _fail("--plot needs matplotlib (pip install matplotlib)") from None
    if as_json:
        typer.echo(rep.model_dump_json(indent=2))
        return
    from tools.cost.present import gain

    s = rep.savings
    typer.echo(f"current      {_money(rep.current_monthly)}/month  ({rep.current_source})")
    typer.echo(
        f"node plan    {_money(rep.after_node_plan_monthly)}/month  ({gain(s.node_plan_monthly, 'saves', 'costs')})"
    )
    typer.echo(
        f"right-sized  {_money(rep.recommended_monthly)}/month  "
        f"({gain(s.rightsizing_monthly, 'saves', 'costs', ' more')})"
    )
    typer.echo(f"{gain(s.total_monthly, 'total saving', 'total: costing')}/month")
    p = rep.plan
    typer.echo(f"plan: {p.status}, lower bound {_money(p.lower_bound)}, gap {p.gap:.1%} ({p.bound_source})")
    typer.echo(
        f"spot: {p.spot_share:.0%} of pods, {p.expected_interruptions_per_month:.2f} expected interruptions/month"
    )
    cur, rec = rep.current_allocation, rep.recommended_allocation
    typer.echo("namespace        current   recommended")
    for ns in sorted(set(cur.by_namespace) | set(rec.by_namespace)):
        a, b = cur.by_namespace.get(ns, 0.0) * 730, rec.by_namespace.get(ns, 0.0) * 730
        typer.echo(f"{ns:<14} {_money(a):>10} {_money(b):>12}")
    typer.echo(
        f"{'(idle)':<14} {_money(cur.idle_usd_per_hour * 730):>10} {_money(rec.idle_usd_per_hour * 730):>12}"
    )
    for note in rep.notes:
        typer.echo(f"note: {note}")


@app.command()
def rightsize(
    namespace: str | None = _NS,
    snapshot: Path | None = _SNAPSHOT,
    usage_file: Path | None = _USAGE,
    prometheus_url: str | None = _PROM,
    cpu_percentile: float = _PCT,
    memory_buffer: float = _BUF,
    history_days: float = _DAYS,
    as_json: bool = _JSON,
) -> None:
    """Requests and limits per container (krr strategy: CPU p95, memory peak +15 %), with confidence notes."""
    from tools.cost.apply import resource_diff

    strategy = _strategy(cpu_percentile, memory_buffer, history_days)
    rep = _run(
        namespace, snapshot, usage_file, prometheus_url, "aws", "us-east-1", None, 0.25, strategy, False
    )
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rep.rightsizing], indent=2))
        return
    for r in rep.rightsizing:
        lines = resource_diff([r]) or [f"{r.workload}/{r.container}: no change"]
        for line in lines:
            typer.echo(f"{line}  [{r.confidence}]")
        for note in r.notes:
            typer.echo(f"  note: {note}")


@app.command()
def plan(
    namespace: str | None = _NS,
    snapshot: Path | None = _SNAPSHOT,
    usage_file: Path | None = _USAGE,
    prometheus_url: str | None = _PROM,
    cloud: str = _CLOUD,
    region: str = _REGION,
    prices: Path | None = _PRICES,
    effort: float = _EFFORT,
    nodepool: bool = typer.Option(False, "--nodepool", help="Print a Karpenter NodePool proposal."),
    migration: bool = typer.Option(
        False, "--migration", help="Print the move to the plan: waves within the PodDisruptionBudgets."
    ),
    as_json: bool = _JSON,
) -> None:
    """The cheapest node plan for the right-sized workloads, with its proven lower bound and gap."""
    rep = _run(namespace, snapshot, usage_file, prometheus_url, cloud, region, prices, effort)
    p = rep.plan
    if migration:
        _print_migration(rep.migration, as_json)
        return
    if as_json:
        typer.echo(p.model_dump_json(indent=2))
        return
    if nodepool:
        header = [
            f"Planned: {p.monthly_cost:.2f} USD/month, proven lower bound {p.lower_bound:.2f} (gap {p.gap:.1%})"
        ]
        header += [
            f"  {g.count} x {g.instance_type} ({g.capacity_type}, {g.usd_per_hour:g} USD/h)" for g in p.nodes
        ]
        typer.echo(rep.nodepool.yaml(header) if rep.nodepool else "# no NodePool proposal\n", nl=False)
        return
    typer.echo(
        f"{_money(p.monthly_cost)}/month, lower bound {_money(p.lower_bound)}, gap {p.gap:.2%} [{p.status}]"
    )
    estimated = "spot-advisor-estimate" in rep.price_sources
    for g in p.nodes:
        guess = " (Spot Advisor estimate)" if estimated and g.capacity_type == "spot" else ""
        typer.echo(f"  {g.count} x {g.instance_type:<14} {g.capacity_type:<9} ${g.usd_per_hour:g}/h{guess}")
    typer.echo(
        f"spot share {p.spot_share:.0%}, {p.expected_interruptions_per_month:.2f} expected interruptions/month"
    )
    for name, n in p.unplaceable.items():
        typer.echo(f"unplaceable: {name} x{n}: {p.unplaceable_reasons.get(name, 'no reason given')}")


def _print_migration(m: Any, as_json: bool) -> None:
    if m is None:
        raise _fail("no migration plan: the snapshot has no nodes today")
    if as_json:
        typer.echo(m.model_dump_json(indent=2))
        return
    launch = ", ".join(f"{n} x {o}" for o, n in m.launch.items())
    typer.echo(f"1. launch {launch}; once Ready, cordon {', '.join(m.cordon) or 'nothing (namespace only)'}")
    for pdb, n in m.budgets.items():
        typer.echo(f"   PDB {pdb}: at most {n} pod(s) evicted at a time")
    for i, wave in enumerate(m.waves, 2):
        typer.echo(
            f"{i}. evict {', '.join(e.pod for e in wave.evict) or 'nothing'}; wait for replacements Ready"
        )
        if wave.remove_nodes:
            typer.echo(f"   then remove {', '.join(wave.remove_nodes)}")
    for pod, why in m.blocked.items():
        typer.echo(f"blocked: {pod}: {why}")
    for note in m.notes:
        typer.echo(f"note: {note}")


@app.command()
def price(
    instance_type: str = typer.Argument(..., help="e.g. m7i.large"),
    capacity_type: str = typer.Option("on-demand", "--capacity-type", help="on-demand or spot"),
    cloud: str = _CLOUD,
    region: str = _REGION,
    prices: Path | None = _PRICES,
) -> None:
    """Hourly price from the shipped catalogs, with overrides applied and the source named."""
    from tools.cost.catalog import CatalogError, PriceCatalog, load_overrides

    if capacity_type not in ("on-demand", "spot"):
        raise _fail(f"--capacity-type: {capacity_type!r} is not on-demand or spot")
    try:
        overrides = load_overrides(prices) if prices else []
        q = PriceCatalog(cloud, region, overrides).quote(instance_type, capacity_type)  # type: ignore[arg-type]
    except CatalogError as exc:
        raise _fail(str(exc)) from None
    risk = f", interruption {q.interruption_label}" if q.interruption_label else ""
    typer.echo(
        f"{q.instance_type} {q.capacity_type} {cloud}/{region}: ${q.usd_per_hour:g}/h ({q.source}{risk})"
    )
