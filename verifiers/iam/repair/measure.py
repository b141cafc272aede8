"""A cheap permissiveness measure for ranking candidates: catalog actions allowed, resource breadth, size.

It ranks; it does not prove. "Allowed" here means some Allow statement's Action/NotAction matches the
action and no unconditional Deny on every resource covers it, so an action allowed only under a
condition still counts. Proofs of "less permissive" come from `compare`.
"""

from __future__ import annotations

import json
from functools import cache

from policies.catalog import load_catalog
from policies.model import Policy, Statement

__all__ = ["Breadth", "allowed_actions", "breadth", "statement_actions"]

Breadth = tuple[int, int, int]


@cache
def _expand_one(pattern: str) -> frozenset[str]:
    catalog = load_catalog()
    if "*" not in pattern and "?" not in pattern:
        info = catalog.action_info(pattern)
        return frozenset([info[0]] if info else [])
    return frozenset(catalog.expand(pattern))


@cache
def _expand(patterns: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*(_expand_one(p) for p in patterns))


def statement_actions(st: Statement) -> frozenset[str]:
    """Catalog actions (canonical names) a statement's Action or NotAction element covers."""
    if st.action is not None:
        return _expand(st.action)
    assert st.not_action is not None
    return frozenset(load_catalog().all_actions) - _expand(st.not_action)


def _blanket_deny(st: Statement) -> bool:
    return (
        st.effect == "Deny"
        and not st.condition
        and st.not_resource is None
        and st.not_principal is None
        and (st.resource is None or "*" in st.resource)
        and (st.principal is None or st.principal.wildcard)
    )


def allowed_actions(policy: Policy) -> frozenset[str]:
    allowed: set[str] = set()
    for st in policy.statements:
        if st.effect == "Allow":
            allowed |= statement_actions(st)
    for st in policy.statements:
        if _blanket_deny(st):
            allowed -= statement_actions(st)
    return frozenset(allowed)


def breadth(policy: Policy) -> Breadth:
    """(actions allowed, resource wildcards of Allow statements, JSON size): smaller is less permissive."""
    wildcards = 0
    for st in policy.statements:
        if st.effect == "Allow":
            resources = st.resource or ("*",)
            wildcards += sum(r.count("*") + r.count("?") for r in resources) * max(
                1, len(statement_actions(st))
            )
            wildcards += 1000 if st.not_resource is not None else 0
    return len(allowed_actions(policy)), wildcards, len(json.dumps(policy.to_json()))
