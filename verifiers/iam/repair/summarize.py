"""Summaries of what a policy allows: per service, actions by access level, on which resources, under
which conditions, with the Deny carve-outs; counts against the AWS catalog. The numbers come from the
catalog and the statements; whether each service is actually reachable past the Deny statements is
checked with the Z3 engine (a service no request reaches is reported as such and not counted).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ConfigDict

from policies.catalog import load_catalog
from policies.model import Policy, Statement
from verifiers.iam.exclusive import exclusive
from verifiers.iam.explain import describe_condition
from verifiers.iam.repair.measure import allowed_actions, statement_actions
from verifiers.iam.repair.prove import allow_policy, find_request

__all__ = ["ServiceSummary", "Summary", "summarize"]

LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")


class ServiceSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    actions: dict[str, tuple[str, ...]]
    """Access level -> allowed catalog actions."""
    resources: tuple[str, ...]
    conditions: tuple[str, ...]
    carve_outs: tuple[str, ...]
    reachable: bool | None
    """Some request for this service is allowed (Z3); None when the solver could not tell."""

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.actions.values())


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True)

    catalog_actions: int
    allowed: int
    by_level: dict[str, int]
    services: tuple[ServiceSummary, ...]
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "catalog_actions": self.catalog_actions,
            "allowed": self.allowed,
            "by_level": self.by_level,
            "services": [s.model_dump() | {"count": s.count} for s in self.services],
            "text": self.text,
        }


def _resources(st: Statement) -> str:
    if st.resource is not None:
        return ", ".join(st.resource)
    if st.not_resource is not None:
        return "every resource except " + ", ".join(st.not_resource)
    return "*"


def _carve_out(st: Statement) -> str:
    where = f" on {_resources(st)}" if _resources(st) != "*" else ""
    when = f" when {'; '.join(describe_condition(c) for c in st.condition)}" if st.condition else ""
    return f"{st.label} denies {', '.join(st.action or ()) or 'all but ' + ', '.join(st.not_action or ())}{where}{when}"


@exclusive
def summarize(policy: Policy) -> Summary:
    """What `policy` allows, per service and access level, each service's reachability proven with Z3."""
    catalog = load_catalog()
    allowed = allowed_actions(policy)
    per_service: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    resources: dict[str, set[str]] = defaultdict(set)
    conditions: dict[str, set[str]] = defaultdict(set)
    carve: dict[str, set[str]] = defaultdict(set)
    for st in policy.statements:
        covered = statement_actions(st)
        services = {a.split(":", 1)[0] for a in covered}
        if st.effect == "Allow":
            for action in covered & allowed:
                info = catalog.action_info(action)
                per_service[action.split(":", 1)[0]][info[1] if info else "Unknown"].add(action)
            for svc in services:
                resources[svc].add(_resources(st))
                conditions[svc].update(describe_condition(c) for c in st.condition)
        else:
            for svc in services:
                carve[svc].add(_carve_out(st))
    summaries = []
    for svc in sorted(per_service):
        found = find_request([policy, allow_policy([f"{svc}:*"])])
        reachable = None if found.status == "unknown" else found.status == "sat"
        actions = {
            lvl: tuple(sorted(per_service[svc][lvl]))
            for lvl in (*LEVELS, "Unknown")
            if per_service[svc].get(lvl)
        }
        summaries.append(
            ServiceSummary(
                service=svc,
                actions=actions if reachable is not False else {},
                resources=tuple(sorted(resources[svc])),
                conditions=tuple(sorted(conditions[svc])),
                carve_outs=tuple(sorted(carve[svc])),
                reachable=reachable,
            )
        )
    by_level = {lvl: sum(len(s.actions.get(lvl, ())) for s in summaries) for lvl in LEVELS}
    total = sum(s.count for s in summaries)
    return Summary(
        catalog_actions=len(catalog.all_actions),
        allowed=total,
        by_level=by_level,
        services=tuple(summaries),
        text=_text(total, len(catalog.all_actions), by_level, summaries),
    )


def _text(total: int, size: int, by_level: dict[str, int], services: list[ServiceSummary]) -> str:
    levels = ", ".join(f"{n} {lvl.lower()}" for lvl, n in by_level.items() if n)
    lines = [f"Allows {total:,} of {size:,} catalog actions" + (f" ({levels})." if levels else ".")]
    for s in services:
        if s.reachable is False:
            lines.append(
                f"- {s.service}: granted but unreachable: Deny statements block every request (proven)"
            )
            continue
        counts = ", ".join(f"{len(v)} {k.lower()}" for k, v in s.actions.items())
        lines.append(f"- {s.service}: {s.count} actions ({counts}) on {'; '.join(s.resources)}")
        if s.count <= 8:
            lines.append(f"    actions: {', '.join(a for v in s.actions.values() for a in v)}")
        lines += [f"    when {c}" for c in s.conditions]
        lines += [f"    except: {c}" for c in s.carve_outs]
        if s.reachable is None:
            lines.append("    (the solver could not confirm that any request reaches it)")
    return "\n".join(lines)
