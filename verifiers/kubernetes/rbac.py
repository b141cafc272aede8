"""RBAC, decided locally with the authorizer's matching rules: does a set of PolicyRules allow an API call,
and what is the smallest Role that allows exactly a list of calls.

The matching follows the upstream RBAC authorizer: verbs, apiGroups and resources each match literally
or by `*`; `resource/subresource` names a subresource; `resourceNames` restrict by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ApiCall", "RbacCheck", "check_role", "least_privilege_rules", "parse_call", "rules_allow"]

_VERBS = {
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "impersonate",
    "bind",
    "escalate",
    "use",
    "approve",
    "sign",
    "*",
}
_GROUPS = {
    "deployments": "apps",
    "replicasets": "apps",
    "statefulsets": "apps",
    "daemonsets": "apps",
    "jobs": "batch",
    "cronjobs": "batch",
    "horizontalpodautoscalers": "autoscaling",
    "networkpolicies": "networking.k8s.io",
    "ingresses": "networking.k8s.io",
    "roles": "rbac.authorization.k8s.io",
    "rolebindings": "rbac.authorization.k8s.io",
    "poddisruptionbudgets": "policy",
    "leases": "coordination.k8s.io",
}


@dataclass(frozen=True)
class ApiCall:
    """One API call a workload makes: `list configmaps`, `get deployments.apps/web`, `create pods/exec`."""

    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    name: str = ""

    def __str__(self) -> str:
        res = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        qualified = f"{res}.{self.group}" if self.group else res
        return f"{self.verb} {qualified}" + (f" {self.name}" if self.name else "")


def parse_call(text: str) -> ApiCall:
    """`verb resource[.group][/subresource] [name]` → ApiCall; ValueError naming the bad part."""
    parts = text.strip().split()
    if len(parts) not in (2, 3):
        raise ValueError(f"{text!r}: expected `verb resource [name]`, e.g. `list configmaps`")
    verb, resource = parts[0].lower(), parts[1].lower()
    if verb not in _VERBS:
        raise ValueError(f"{text!r}: unknown verb {verb!r} (one of {', '.join(sorted(_VERBS))})")
    sub = ""
    if "/" in resource:
        resource, sub = resource.split("/", 1)
    group = _GROUPS.get(resource, "")
    if "." in resource:
        resource, group = resource.split(".", 1)
        if "/" in group:
            group, sub = group.split("/", 1)
    return ApiCall(verb, resource, group, sub, parts[2] if len(parts) == 3 else "")


def _rule_allows(rule: dict[str, Any], call: ApiCall) -> bool:
    verbs, groups, resources = (
        rule.get("verbs") or [],
        rule.get("apiGroups") or [],
        rule.get("resources") or [],
    )
    if "*" not in verbs and call.verb not in verbs:
        return False
    if "*" not in groups and call.group not in groups:
        return False
    wanted = f"{call.resource}/{call.subresource}" if call.subresource else call.resource
    if not any(r in ("*", wanted) or (call.subresource and r == f"*/{call.subresource}") for r in resources):
        return False
    names = rule.get("resourceNames") or []
    return not names or call.name in names


def rules_allow(rules: list[dict[str, Any]], call: ApiCall) -> bool:
    return any(_rule_allows(rule, call) for rule in rules)


def least_privilege_rules(calls: list[ApiCall]) -> list[dict[str, Any]]:
    """One rule per (group, resource, names), listing only the verbs the calls use."""
    grouped: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
    for call in calls:
        res = f"{call.resource}/{call.subresource}" if call.subresource else call.resource
        key = (call.group, res, (call.name,) if call.name else ())
        grouped.setdefault(key, set()).add(call.verb)
    rules = []
    for (group, res, names), verbs in sorted(grouped.items()):
        rule: dict[str, Any] = {"apiGroups": [group], "resources": [res], "verbs": sorted(verbs)}
        if names:
            rule["resourceNames"] = list(names)
        rules.append(rule)
    return rules


@dataclass(frozen=True)
class RbacCheck:
    """The result of checking a Role against the calls it must allow and a sample it must not."""

    allowed: tuple[str, ...]
    missing: tuple[str, ...]
    excess: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.excess


_PROBE_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


def check_role(rules: list[dict[str, Any]], calls: list[ApiCall]) -> RbacCheck:
    """Every call is allowed, and no other verb on the same resources (nor any wildcard) is."""
    allowed = tuple(str(c) for c in calls if rules_allow(rules, c))
    missing = tuple(str(c) for c in calls if not rules_allow(rules, c))
    needed = {(c.verb, c.group, c.resource, c.subresource) for c in calls}
    excess = []
    for c in calls:
        for verb in _PROBE_VERBS:
            probe = ApiCall(verb, c.resource, c.group, c.subresource, c.name)
            if (verb, c.group, c.resource, c.subresource) not in needed and rules_allow(rules, probe):
                excess.append(str(probe))
    for rule in rules:
        if "*" in (rule.get("verbs") or []) + (rule.get("apiGroups") or []) + (rule.get("resources") or []):
            excess.append(f"wildcard in rule {rule}")
    return RbacCheck(allowed, missing, tuple(sorted(set(excess))))
