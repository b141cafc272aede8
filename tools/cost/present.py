"""Markdown for people of the cost tools' artifacts: a report (cost now and planned, the savings, the plan's
bound and status, its nodes, the right-sizing changes, the NodePool proposal), right-sizing lists, price
quotes (an estimate called one) and applied right-sizing changes.
Imported by `tools.present` on first use of a `cost.*` kind.

Figures are the artifact's own, money with two decimals. A plan is called proven optimal only when its
status is `optimal`; a `feasible` plan has a proven lower bound and a gap; any other status proves nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tools.markdown import code, escape, table
from tools.present import Artifact, presenter

__all__ = ["gain", "present_apply", "present_price", "present_report", "present_rightsizing"]

MAX_CHANGES = 10
"""Right-sizing rows shown; the rest are counted (the JSON has them all)."""
MAX_YAML_LINES = 40
"""A NodePool proposal longer than this is described, not printed."""

_CODE_SPAN = re.compile(r"(`[^`\n]+`)")


def _money(value: Any) -> str:
    return f"${float(value):,.2f}" if isinstance(value, int | float) else "—"


def gain(value: Any, saves: str, costs: str, more: str = "") -> str:
    """A saving as people say it: "saving $5.00", or "costing $35.90 more" when the plan costs more (a
    namespace planned alone can cost more than its share of today's nodes)."""
    if isinstance(value, int | float) and value < -0.005:
        return f"{costs} {_money(-value)} more"
    return f"{saves} {_money(value)}{more}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


def _text(line: Any) -> str:
    """A note for people: escaped, except the inline code spans the cost engine writes (annotations)."""
    parts = _CODE_SPAN.split(" ".join(str(line).split()))
    return "".join(p if n % 2 else _keep_edges(p) for n, p in enumerate(parts))


def _keep_edges(text: str) -> str:
    """`escape(text)` with the spaces at its ends kept (they separate it from a code span)."""
    if not text.strip():
        return text
    return " " * (text[0] == " ") + escape(text) + " " * (text[-1] == " ")


def _status(plan: Mapping[str, Any]) -> str:
    """The plan's proof status in words: only `optimal` is called proven optimal."""
    status, bound, gap = plan.get("status"), plan.get("lower_bound"), plan.get("gap")
    source = f" ({escape(plan['bound_source'])})" if plan.get("bound_source") else ""
    if status == "optimal":
        return f"**proven optimal**: lower bound{source} {_money(bound)}, gap {_percent(gap or 0)}"
    gap_text = f", gap {_percent(gap)}" if isinstance(gap, int | float) else ""
    if status == "feasible":
        return f"feasible, **not proven optimal**: proven lower bound {_money(bound)}{source}{gap_text}"
    return (
        f"status {escape(status or 'unknown')}: **nothing proven** about this plan "
        f"(lower bound {_money(bound)}{gap_text} as the solver left it)"
    )


def _resources(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    number = float(value)
    return f"{number:g}{unit}" if number == int(number) else f"{number}{unit}"


def _change(current: Mapping[str, Any], recommended: Mapping[str, Any], key: str, unit: str) -> str:
    before, after = current.get(key), recommended.get(key)
    if before == after:
        return _resources(before, unit)
    return f"{_resources(before, unit)} → {_resources(after, unit)}"


def _rightsizing(recs: Sequence[Mapping[str, Any]]) -> list[str]:
    """A table of the first changes (requests, and limits where either side sets one), notes below it."""
    if not recs:
        return ["No right-sizing changes."]
    limits = [
        (label, key, unit)
        for label, key, unit in (
            ("CPU limit", "cpu_limit_m", "m"),
            ("memory limit", "memory_limit_mib", "Mi"),
        )
        if any((r.get(side) or {}).get(key) is not None for r in recs for side in ("current", "recommended"))
    ]  # a limit column only where some container has that limit
    headers = ["workload", "container", "CPU request", "memory request", *(label for label, _, _ in limits)]
    rows: list[list[object]] = []
    notes: list[str] = []
    for r in recs[:MAX_CHANGES]:
        cur, rec = r.get("current") or {}, r.get("recommended") or {}
        row: list[object] = [
            r.get("workload"),
            r.get("container"),
            _change(cur, rec, "cpu_request_m", "m"),
            _change(cur, rec, "memory_request_mib", "Mi"),
            *(_change(cur, rec, key, unit) for _, key, unit in limits),
        ]
        rows.append([*row, r.get("confidence", "")])
        notes += [
            f"- {escape(r.get('workload'))}/{escape(r.get('container'))}: {_text(n)}"
            for n in r.get("notes") or []
        ]
    out = [table([*headers, "confidence"], rows, align=["left"] * (len(headers) + 1))]
    if len(recs) > MAX_CHANGES:
        out.append(f"… and {len(recs) - MAX_CHANGES} more (`--json` lists them all).")
    if notes:
        out.append("\n".join(notes))
    return out


def _nodes(plan: Mapping[str, Any], spot_estimated: bool = False) -> str:
    """One row per node group; spot prices that are Spot Advisor estimates say so."""
    rows: list[list[object]] = []
    for g in plan.get("nodes") or []:
        spot = g.get("capacity_type") == "spot"
        bucket = g.get("interruption_bucket")
        rows.append(
            [
                g.get("instance_type"),
                g.get("count"),
                g.get("capacity_type"),
                f"${g.get('usd_per_hour')}" + (" (estimate)" if spot and spot_estimated else ""),
                f"bucket {bucket}" if spot and bucket is not None else "",
            ]
        )
    if not rows:
        return "No nodes planned."
    return table(
        ["instance type", "count", "capacity", "$/hour", "spot interruption"],
        rows,
        align=["left", "right", "left", "right", "left"],
    )


def _nodepool(proposal: Any) -> str | None:
    if not isinstance(proposal, str) or not proposal.strip():
        return None
    lines = proposal.strip().splitlines()
    if len(lines) <= MAX_YAML_LINES:
        return "**Karpenter NodePool proposal** (review, then apply it yourself)\n\n" + code(proposal, "yaml")
    pools = re.findall(r"^kind: NodePool\s*\nmetadata:\s*\n\s+name: (\S+)", proposal, re.M)
    patches = len(re.findall(r"^# patch for ", proposal, re.M))
    what = f"{len(pools)} NodePools ({', '.join(f'`{p}`' for p in pools)})" if pools else "NodePools"
    if patches:
        what += f" and {patches} workload patch{'es' if patches != 1 else ''}"
    return (
        f"**Karpenter NodePool proposal**: {what}, {len(lines)} lines of YAML: "
        "`opsgraph cost plan --nodepool` prints it (`--json` gives the whole report)."
    )


def _namespaces(costs: Mapping[str, Any]) -> str | None:
    current, recommended = costs.get("current") or {}, costs.get("recommended") or {}
    names = sorted(set(current) | set(recommended))
    if not names:
        return None
    rows: list[list[object]] = [[n, _money(current.get(n)), _money(recommended.get(n))] for n in names]
    rows.append(["(idle)", _money(costs.get("current_idle")), _money(costs.get("recommended_idle"))])
    return "**Cost by namespace** ($/month)\n\n" + table(
        ["namespace", "now", "recommended"], rows, align=["left", "right", "right"]
    )


@presenter("cost.report")
def present_report(artifact: Artifact) -> str:
    scope = f"namespace {escape(artifact['namespace'])}" if artifact.get("namespace") else "the cluster"
    now, planned = artifact.get("current_monthly"), artifact.get("recommended_monthly")
    savings = artifact.get("savings") or {}
    total = savings.get("total_monthly")
    head = f"### Cost of {scope}: {_money(now)} → {_money(planned)} a month"
    if isinstance(total, int | float):
        share = f" ({abs(total) / now * 100:.2f}%)" if isinstance(now, int | float) and now else ""
        head += f", {gain(total, 'saving', 'costing')}{share}"
    out = [head]
    where = " · ".join(escape(artifact[k]) for k in ("cloud", "region") if artifact.get(k))
    detail = [
        f"- now: {_money(now)}/month ({escape(artifact.get('current_source', ''))})".replace(" ()", ""),
        f"- node plan for today's requests: {_money(artifact.get('after_node_plan_monthly'))}/month "
        f"({gain(savings.get('node_plan_monthly'), 'saves', 'costs')})",
        f"- right-sized: {_money(planned)}/month ({gain(savings.get('rightsizing_monthly'), 'saves', 'costs', ' more')})",
    ]
    cluster_share = artifact.get("cluster_share")
    if isinstance(cluster_share, Mapping):
        detail.append(
            f"- {escape(cluster_share.get('namespace', ''))}'s share of the cluster-wide plan: "
            f"{_money(cluster_share.get('current_monthly'))} → {_money(cluster_share.get('recommended_monthly'))} "
            f"({gain(cluster_share.get('saving_monthly'), 'saving', 'costing')})"
        )
    bills = artifact.get("commitments")
    if isinstance(bills, Mapping):
        detail.append(
            f"- with your commitments (paid used or not, before on-demand): {_money(bills.get('current_monthly'))}"
            f" → {_money(bills.get('recommended_monthly'))} ({gain(bills.get('saving_monthly'), 'saving', 'costing')})"
        )
        detail += [f"  - {escape(line)}" for line in bills.get("lines") or []]
    plan = artifact.get("plan") or {}
    plan_line = f"**Plan** ({where}): {_money(plan.get('monthly_cost'))}/month, {_status(plan)}."
    spot = plan.get("spot_share")
    if isinstance(spot, int | float) and spot > 0:
        plan_line += (
            f" Spot: {_percent(spot)} of pods, {plan.get('expected_interruptions_per_month')} "
            "expected interruptions a month."
        )
    estimated = "spot-advisor-estimate" in (artifact.get("price_sources") or [])
    out += [plan_line, "\n".join(detail), _nodes(plan, estimated)]
    warnings = [
        f"- ⚠ {escape(name)}: {n} pod(s) cannot be placed: "
        f"{escape((plan.get('unplaceable_reasons') or {}).get(name, 'no reason given'))}"
        for name, n in (plan.get("unplaceable") or {}).items()
    ]
    if warnings:
        out.append("**Not placed**\n\n" + "\n".join(warnings))
    recs = artifact.get("rightsizing") or []
    out.append(f"**Right-sizing** ({len(recs)} container{'s' if len(recs) != 1 else ''})")
    out += _rightsizing(recs)
    namespaces = _namespaces(artifact.get("cost_by_namespace") or {})
    if namespaces:
        out.append(namespaces)
    nodepool = _nodepool(artifact.get("nodepool_proposal"))
    if nodepool:
        out.append(nodepool)
    migration = _migration(artifact.get("migration"))
    if migration:
        out.append(migration)
    notes = [f"- {_text(n)}" for n in artifact.get("notes") or []]
    if notes:
        out.append("**Notes**\n\n" + "\n".join(notes))
    return "\n\n".join(out)


def _migration(m: Any) -> str | None:
    """The move to the plan in brief: waves within the PodDisruptionBudgets, and what blocks it."""
    if not isinstance(m, Mapping):
        return None
    launched = sum(int(n) for n in (m.get("launch") or {}).values())
    head = (
        f"**Migration**: launch {launched} node{'s' if launched != 1 else ''}, then {m.get('evictions', 0)} "
        f"evictions in {m.get('waves', 0)} wave{'s' if m.get('waves') != 1 else ''}, none evicting more than a "
        "PodDisruptionBudget allows (`opsgraph cost plan --migration` lists them)."
    )
    lines = [
        f"- ⚠ {escape(pod)}: {escape(why)}" for pod, why in sorted((m.get("blocked") or {}).items())[:10]
    ]
    lines += [f"- {_text(n)}" for n in m.get("notes") or []]
    return "\n\n".join([head, "\n".join(lines)]) if lines else head


@presenter("cost.rightsizing")
def present_rightsizing(artifact: Artifact) -> str:
    recs = [
        r
        for r in artifact.get("recommendations") or []
        if r.get("current") != r.get("recommended") or r.get("notes")
    ]
    scope = f"namespace {escape(artifact['namespace'])}" if artifact.get("namespace") else "the cluster"
    count = len(recs)
    head = f"### Right-sizing in {scope}: {count} container{'s' if count != 1 else ''} to change"
    return "\n\n".join([head, *(_rightsizing(recs) if recs else [])])


_SOURCES = {
    "list": "list price",
    "spot-advisor-estimate": "**estimate**: on-demand less the Spot Advisor's savings",
}


@presenter("cost.price")
def present_price(artifact: Artifact) -> str:
    """One quote: the price a month too, where it comes from, and the interruption bucket of a spot price."""
    hourly = artifact.get("usd_per_hour")
    where = "/".join(escape(artifact[k]) for k in ("cloud", "region") if artifact.get(k))
    head = (
        f"### {escape(artifact.get('instance_type', '?'))} {escape(artifact.get('capacity_type', ''))} "
        f"({where}): ${float(hourly):g}/hour, {_money(float(hourly) * 730)}/month"
        if isinstance(hourly, int | float)
        else f"### {escape(artifact.get('instance_type', '?'))}: no price"
    )
    source = str(artifact.get("source") or "")
    kind, _, label = source.partition(":")
    given = {"override": "your override", "list": "list price from your price file"}.get(kind)
    lines = [
        f"- source: {_SOURCES.get(source) or (f'{given} ({escape(label)})' if given else escape(source))}"
    ]
    if artifact.get("interruption_label"):
        lines.append(f"- spot interruption frequency: {escape(artifact['interruption_label'])}")
    return "\n\n".join([head, "\n".join(lines)])


@presenter("cost.apply")
def present_apply(artifact: Artifact) -> str:
    """What an approved right-sizing changed (each resource before and after), or why nothing was."""
    workload = escape(artifact.get("workload", "?"))
    if not artifact.get("changed"):
        return f"### {workload}: not changed\n\n{escape(artifact.get('reason', ''))}"
    delta = artifact.get("cost_delta_monthly_usd")
    head = f"### Right-sized {workload}"
    if isinstance(delta, int | float):
        head += f": {'saves' if delta < 0 else 'adds'} {_money(abs(delta))} a month (allocated cost)"
    diff = [f"- {escape(line)}" for line in artifact.get("diff") or []]
    return "\n\n".join([head, "\n".join(diff) or "No resource changed."])
