"""Lint of a statement's actions and principals, of statements against each other (duplicate Sids,
redundant statements), and of the risky grants Access Analyzer warns about (`iam:PassRole` on every
role, full admin, `NotAction` or `NotPrincipal` with Allow)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache

from policies.catalog import load_catalog
from policies.model import Policy, Principal, Statement
from verifiers.iam.globs import matches, pair_relation, pattern_glob
from verifiers.iam.lint.findings import Context
from verifiers.iam.semantics import action_glob

__all__ = ["check_actions", "check_grants", "check_principals", "check_redundancy", "check_sids"]

_SID = re.compile(r"[A-Za-z0-9]*")
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9.-]+\.amazonaws\.com(\.cn)?|[a-z0-9.-]+\.amazon\.com")
_AWS_PRINCIPAL = re.compile(r"\d{12}|arn:[a-z-]+:(iam|sts)::(\d{12}|aws):.+")
_PASS_ROLE = "iam:passrole"


def check_actions(ctx: Context, st: Statement, base: str) -> None:
    catalog = load_catalog()
    name = "Action" if st.action is not None else "NotAction"
    items = st.action if st.action is not None else st.not_action or ()
    for i, text in enumerate(items):
        where = ctx.item(base, name, i, len(items))
        if text in ("*", "*:*"):
            continue
        if ":" not in text:
            ctx.add("error", "INVALID_ACTION", where, f"{text!r} is not service:action")
            continue
        service = text.split(":", 1)[0]
        if ctx.kind == "scp" and any(c in text[:-1] for c in "*?"):
            ctx.add(
                "error",
                "SCP_SYNTAX_ERROR_ACTION_WILDCARD",
                where,
                f"{text!r}: in an SCP a wildcard may only end the action name",
            )
        if "*" in service or "?" in service:
            ctx.add(
                "suggestion", "WILDCARD_IN_SERVICE_NAME", where, f"{text!r}: a wildcard in the service name"
            )
        elif not catalog.has_service(service):
            ctx.add("error", "INVALID_SERVICE_IN_ACTION", where, f"unknown service prefix {service!r}")
            continue
        if not catalog.expand(text):
            ctx.add("error", "INVALID_ACTION", where, f"{text!r} matches no known action")
    _redundant_items(ctx, base, name, items, _action_covered, "REDUNDANT_ACTION", "action")
    resources = st.resource if st.resource is not None else st.not_resource
    if resources is not None:
        rname = "Resource" if st.resource is not None else "NotResource"
        _redundant_items(ctx, base, rname, resources, _resource_covered, "REDUNDANT_RESOURCE", "resource")


def _action_covered(narrow: str, wide: str) -> bool:
    """Every known action `narrow` names, `wide` names too."""
    catalog = load_catalog()
    mine = set(catalog.expand(narrow))
    return bool(mine) and mine <= set(catalog.expand(wide)) if wide not in ("*", "*:*") else bool(mine)


def _resource_covered(narrow: str, wide: str) -> bool:
    return _included(narrow, wide, True)


def _redundant_items(
    ctx: Context,
    base: str,
    name: str,
    items: tuple[str, ...],
    covered: Callable[[str, str], bool],
    code: str,
    what: str,
) -> None:
    if len(items) < 2 or len(items) > 200:
        return
    for i, text in enumerate(items):
        for j, other in enumerate(items):
            if i == j or (text == other and j > i):
                continue
            if text == other:
                ctx.add(
                    "suggestion",
                    code,
                    ctx.item(base, name, i, len(items)),
                    f"the {what} {text!r} is listed twice",
                )
                break
            if covered(text, other):
                ctx.add(
                    "suggestion",
                    code,
                    ctx.item(base, name, i, len(items)),
                    f"the {what} {text!r} is already covered by {other!r}",
                )
                break


def check_principals(ctx: Context, st: Statement, base: str) -> None:
    element = st.principal or st.not_principal
    name = "Principal" if st.principal is not None else "NotPrincipal"
    if ctx.kind == "identity" and element is not None:
        ctx.add(
            "error", "UNSUPPORTED_PRINCIPAL", f"{base}/{name}", f"an identity policy has no {name} element"
        )
        return
    if ctx.kind == "scp" and element is not None:
        ctx.add("error", "SCP_SYNTAX_ERROR_PRINCIPAL", f"{base}/{name}", f"an SCP has no {name} element")
        return
    if ctx.kind == "resource" and element is None:
        ctx.add(
            "error",
            "MISSING_PRINCIPAL",
            base,
            "a resource policy statement needs a Principal (or NotPrincipal)",
        )
        return
    if element is None:
        return
    if st.not_principal is not None and st.effect == "Allow":
        ctx.add(
            "security_warning",
            "ALLOW_WITH_NOT_PRINCIPAL",
            f"{base}/NotPrincipal",
            "Allow with NotPrincipal allows everyone else, anonymous callers included",
        )
    _principal_values(ctx, element, f"{base}/{name}")


def _principal_values(ctx: Context, element: Principal, where: str) -> None:
    for kind, values in element.values.items():
        for i, value in enumerate(values):
            at = ctx.item(where, kind, i, len(values))
            if kind == "AWS" and value != "*":
                if "*" in value or "?" in value:
                    ctx.add(
                        "error",
                        "UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
                        at,
                        f"{value!r}: a principal ARN cannot hold a wildcard (use * alone, or aws:PrincipalArn with ArnLike)",
                    )
                elif not _AWS_PRINCIPAL.fullmatch(value):
                    ctx.add(
                        "error",
                        "INVALID_PRINCIPAL_FORMAT",
                        at,
                        f"{value!r} is not an account id or an IAM/STS ARN",
                    )
            elif kind == "Service" and not _SERVICE_PRINCIPAL.fullmatch(value):
                ctx.add(
                    "error",
                    "INVALID_SERVICE_PRINCIPAL_FORMAT",
                    at,
                    f"{value!r} is not a service principal (name.amazonaws.com)",
                )


def check_grants(ctx: Context, st: Statement, base: str) -> None:
    if st.effect != "Allow":
        return
    everything = (st.resource is None and st.not_resource is None) or (
        st.resource is not None and "*" in st.resource
    )
    if (
        st.action is not None
        and any(a in ("*", "*:*") for a in st.action)
        and everything
        and not st.condition
    ):
        ctx.add("security_warning", "FULL_ADMIN", base, "allows every action on every resource")
    elif st.not_action is not None:
        ctx.add(
            "warning",
            "ALLOW_WITH_NOT_ACTION",
            f"{base}/NotAction",
            "Allow with NotAction allows every other action, including ones AWS adds later",
        )
    passes_role = (
        any(matches(action_glob(a), _PASS_ROLE) for a in st.action)
        if st.action is not None
        else not any(matches(action_glob(a), _PASS_ROLE) for a in st.not_action or ())
    )
    if passes_role and (everything or st.not_resource is not None):
        star_action = st.action is None or any(
            a in ("*", "*:*") or a.lower().startswith("iam:*") for a in st.action
        )
        ctx.add(
            "security_warning",
            "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE"
            if star_action
            else "PASS_ROLE_WITH_STAR_IN_RESOURCE",
            f"{base}/{'Resource' if st.resource is not None else 'NotResource'}",
            "iam:PassRole on every role: the principal can hand any role, admin ones too, to a service; "
            "list the roles it may pass",
        )


def check_sids(ctx: Context, policy: Policy) -> None:
    seen: dict[str, int] = {}
    for st in policy.statements:
        if st.sid is None:
            continue
        base = ctx.statement_pointer(st.index)
        if ctx.kind != "resource" and not _SID.fullmatch(st.sid):
            ctx.add(
                "error",
                "UNSUPPORTED_SID",
                f"{base}/Sid",
                f"Sid {st.sid!r}: only letters and digits are allowed",
            )
        if st.sid in seen:
            ctx.add(
                "error",
                "UNIQUE_SIDS_REQUIRED",
                f"{base}/Sid",
                f"Sid {st.sid!r} is also the Sid of Statement[{seen[st.sid]}]; Sids must be unique in a policy",
            )
        seen.setdefault(st.sid, st.index)


def _signature(st: Statement) -> tuple[str, str, str]:
    """What must be equal for one statement to cover another: effect, principal, conditions."""
    conditions = sorted((c.operator.lower(), c.key.lower(), c.values) for c in st.condition)
    principal = (st.principal, st.not_principal)
    return st.effect, repr(principal), repr(conditions)


def _head(text: str) -> str:
    """The literal text before the first wildcard: every string the pattern matches starts with it."""
    cut = min((i for i in (text.find("*"), text.find("?")) if i >= 0), default=len(text))
    return text[:cut]


@lru_cache(maxsize=131_072)
def _included(narrow: str, wide: str, arn: bool) -> bool:
    if narrow == wide:
        return True
    if "${" in narrow or "${" in wide:
        return False
    if not arn:
        narrow, wide = narrow.lower(), wide.lower()
    if not _head(narrow).startswith(_head(wide)) or ("*" not in wide and "?" not in wide):
        return False  # a match of `narrow` may start with text no match of `wide` starts with
    a, b = (
        (pattern_glob(narrow, arn=True), pattern_glob(wide, arn=True))
        if arn
        else (action_glob(narrow), action_glob(wide))
    )
    relation = pair_relation(a, b)
    return relation is not None and relation[1]


def _covers(wide: tuple[str, ...], narrow: tuple[str, ...], *, arn: bool) -> bool:
    return all(any(_included(n, w, arn) for w in wide) for n in narrow)


def check_redundancy(ctx: Context, policy: Policy) -> None:
    """A statement that another one with the same effect, principal and conditions fully covers
    (its actions and resources included in the other's) changes nothing."""
    groups: dict[tuple[str, str, str], list[Statement]] = defaultdict(list)
    for st in policy.statements:
        if st.action is not None and st.resource is not None:
            groups[_signature(st)].append(st)
    for members in groups.values():
        if len(members) < 2:
            continue
        # Candidates for covering a statement: those with a resource whose literal head is a head of the
        # statement's first resource (only they can include it), looked up by each head of that text.
        by_head: dict[str, list[Statement]] = defaultdict(list)
        for st in members:
            for head in {_head(r) for r in st.resource or ()}:
                by_head[head].append(st)
        for st in members:
            assert st.action is not None and st.resource is not None
            first = _head(st.resource[0])
            candidates = {id(o): o for k in range(len(first) + 1) for o in by_head.get(first[:k], ())}
            for other in candidates.values():
                if other is st or other.action is None or other.resource is None:
                    continue
                same = (other.action, other.resource) == (st.action, st.resource)
                if same and other.index > st.index:
                    continue  # of two equal statements, the later one is the redundant one
                if _covers(other.resource, st.resource, arn=True) and _covers(
                    other.action, st.action, arn=False
                ):
                    ctx.add(
                        "suggestion",
                        "REDUNDANT_STATEMENT",
                        ctx.statement_pointer(st.index),
                        f"{st.label} adds nothing: {other.label} already covers its actions and resources",
                    )
                    break
