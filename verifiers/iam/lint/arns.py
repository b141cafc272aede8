"""Lint of `Resource`/`NotResource` ARNs against the service's ARN formats, and of each action against
the resource types it can act on (AWS Service Authorization Reference, through the action catalog).

ARN shapes (IAM User Guide, "IAM JSON policy elements: Resource" and "Amazon Resource Names"): six
colon-separated parts unless a trailing `*` ends it early; a known partition; a lowercase service that
exists, without wildcards; a region only where the service's ARNs have one, and a real region name; an
account only where they have one, and then twelve digits; a resource part that fits one of the service's
resource types, with no wildcard inside the resource-type word (`user`, `role` ...) that precedes a
`/` or `:`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from policies.catalog import Catalog, load_catalog
from policies.model import Statement
from verifiers.iam.globs import ANY, CharSet, Glob, matches, pattern_glob
from verifiers.iam.lint.findings import Context

__all__ = ["check_action_resources", "check_resources"]

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ACCOUNT = re.compile(r"\d{12}|aws")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_NO_SLASH = CharSet(frozenset("/"), True)
_EXPANSION_LIMIT = 300
"""Action patterns covering more catalog actions than this (`ec2:*`, `*`) are not checked one by one."""


def _open(text: str) -> bool:
    """A segment with a wildcard or a policy variable: any value may fill it, so it is not checked."""
    return "*" in text or "?" in text or "${" in text


@lru_cache(maxsize=65_536)
def _literal_ends(text: str) -> tuple[str, str, bool]:
    """(text before the first wildcard or placeholder, text after the last one, whether there is one)."""
    marks = [m.start() for m in re.finditer(r"\*|\?|\$\{", text)]
    if not marks:
        return text, text, False
    last = max(m.end() for m in re.finditer(r"\*|\?|\$\{[^}]*\}", text))
    return text[: marks[0]], text[last:], True


_SLASH_FREE = ("BucketName",)
"""Placeholders whose values never hold a `/` (S3 bucket names), so `bucket/*` is not a bucket."""


@lru_cache(maxsize=4096)
def _format_glob(arn_format: str) -> Glob:
    """An ARN format as a glob: each placeholder any text (no `/` for a bucket name)."""
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(arn_format):
        pieces.append((arn_format[pos : m.start()], False))
        slash_free = any(name in m.group() for name in _SLASH_FREE)
        pieces.append(("\0" if slash_free else "\1", True))
        pos = m.end()
    pieces.append((arn_format[pos:], False))
    tokens = []
    for text, placeholder in pieces:
        if placeholder:
            tokens.append((True, _NO_SLASH if text == "\0" else ANY))
        else:
            tokens.extend((False, CharSet(frozenset(c))) for c in text)
    return Glob(tuple(tokens), arn_format)


@lru_cache(maxsize=65_536)
def _part_fits(part: str, format_part: str) -> bool:
    """Some resource part could match both the pattern's and the resource type's. A literal one is
    matched exactly; a pattern is compared on the literal beginnings and ends (which part ways when the
    types differ: `bucket/...` against `accesspoint/...`) and on a `/` where the format has none (a
    bucket). When unsure it says yes, so a finding is never a guess."""
    if not _open(part):
        return matches(_format_glob(format_part), part)
    (p_head, p_tail, _), (f_head, f_tail, f_open) = _literal_ends(part), _literal_ends(format_part)
    if not f_open:
        return matches(pattern_glob(_PLACEHOLDER.sub("*", part)), format_part)
    heads = p_head.startswith(f_head) or f_head.startswith(p_head)
    tails = p_tail.endswith(f_tail) or f_tail.endswith(p_tail)
    slash_free = "/" not in _PLACEHOLDER.sub("", format_part) and all(
        any(name in m.group() for name in _SLASH_FREE) for m in _PLACEHOLDER.finditer(format_part)
    )
    literal_slash = "/" in re.sub(r"\*|\?|\$\{[^}]*\}", "", part)
    return heads and tails and not (slash_free and literal_slash)


def _fits(pattern: str, arn_format: str) -> bool:
    """Some ARN of the resource type's format could match the pattern (service and resource part)."""
    p, f = pattern.split(":", 5), arn_format.split(":", 5)
    if len(p) < 6 or len(f) < 6:
        return True
    return (_open(p[2]) or p[2] == f[2]) and _part_fits(p[5], f[5])


def _formats(catalog: Catalog, service: str) -> list[list[str]]:
    return [f.split(":", 5) for f in catalog.resource_arns(service).values() if f.count(":") >= 5]


def check_resources(ctx: Context, st: Statement, base: str) -> None:
    name = "Resource" if st.resource is not None else "NotResource"
    items = st.resource if st.resource is not None else st.not_resource or ()
    for i, text in enumerate(items):
        _check_arn(ctx, ctx.item(base, name, i, len(items)), text)


def _check_arn(ctx: Context, where: str, text: str) -> None:
    if text == "*":
        return
    if not text.startswith("arn:"):
        ctx.add(
            "error", "INVALID_ARN_PREFIX", where, f"{text!r} is not an ARN (it must begin with arn:, or be *)"
        )
        return
    parts = text.split(":", 5)
    if len(parts) < 6:
        if not text.endswith("*"):
            ctx.add(
                "error",
                "MISSING_ARN_FIELD",
                where,
                f"invalid ARN {text!r}: expected arn:partition:service:region:account:resource",
            )
        return
    _, partition, service, region, account, resource = parts
    if not _open(partition) and partition not in PARTITIONS:
        ctx.add("error", "INVALID_PARTITION", where, f"unknown partition {partition!r} in {text!r}")
    if "*" in service or "?" in service:
        ctx.add(
            "error", "WILDCARD_IN_ARN_SERVICE", where, f"the service part of {text!r} cannot hold a wildcard"
        )
        return
    if "${" in service:
        return
    if service != service.lower():
        ctx.add(
            "error", "INVALID_ARN_SERVICE_CASE", where, f"the service {service!r} in an ARN must be lowercase"
        )
        return
    catalog = load_catalog()
    if not catalog.has_service(service):
        ctx.add("error", "INVALID_SERVICE", where, f"unknown service {service!r} in {text!r}")
        return
    formats = _formats(catalog, service)
    if not formats:
        return
    if _wildcard_type(ctx, where, text, service, resource, formats):
        return
    fitting = [f for f in formats if _part_fits(resource, f[5])]
    if not fitting and resource.startswith(":") and any(_part_fits(resource[1:], f[5]) for f in formats):
        ctx.add(
            "error",
            "INVALID_ARN_RESOURCE",
            where,
            f"{text!r} has one ':' too many before {resource[1:]!r} (an ARN is "
            "arn:partition:service:region:account:resource)",
        )
        return
    if not fitting:
        kinds = ", ".join(sorted(catalog.resource_arns(service))[:6])
        ctx.add(
            "error",
            "INVALID_ARN_RESOURCE",
            where,
            f"{text!r} matches no {service} resource type ({kinds}{', ...' if len(formats) > 6 else ''})",
        )
        return
    # region and account as the resource types the resource part fits have them
    _check_segment(ctx, where, text, service, "region", region, fitting)
    _check_segment(ctx, where, text, service, "account", account, fitting)


_SEGMENTS = {
    # ARN part: (index, what it is called, its pattern, the codes: not allowed / missing / invalid)
    "region": (
        3,
        "a region",
        _REGION,
        ("ARN_REGION_NOT_ALLOWED", "MISSING_ARN_REGION", "INVALID_ARN_REGION"),
    ),
    "account": (
        4,
        "an account id",
        _ACCOUNT,
        ("ARN_ACCOUNT_NOT_ALLOWED", "MISSING_ARN_ACCOUNT", "INVALID_ARN_ACCOUNT"),
    ),
}


def _check_segment(
    ctx: Context, where: str, text: str, service: str, part: str, value: str, formats: list[list[str]]
) -> None:
    """The region or account of an ARN, against the service's resource types that the ARN fits."""
    index, what, valid, (not_allowed, missing, invalid) = _SEGMENTS[part]
    having = [f for f in formats if f[index]]
    if value and not having and value != "*":
        ctx.add("error", not_allowed, where, f"{service} ARNs have no {part}; {text!r} names {value!r}")
    elif not value and len(having) == len(formats):
        ctx.add("error", missing, where, f"{service} ARNs need {what} (or *); {text!r} has none")
    elif value and not _open(value) and not valid.fullmatch(value):
        name = "an AWS region" if part == "region" else "a 12-digit account id"
        ctx.add("error", invalid, where, f"{value!r} is not {name} (in {text!r})")


def _wildcard_type(
    ctx: Context, where: str, text: str, service: str, resource: str, formats: list[list[str]]
) -> bool:
    cut = min((i for i, c in enumerate(resource) if c in "/:"), default=-1)
    typed = [f[5] for f in formats if not f[5].startswith("${")]
    if cut > 0 and _open(resource[:cut]) and typed and len(typed) == len(formats):
        ctx.add(
            "error",
            "WILDCARD_IN_RESOURCE_TYPE",
            where,
            f"{text!r}: AWS does not allow a wildcard in the resource type {resource[:cut]!r} (it may match"
            f" nothing); name the {service} resource type, or use * for the whole resource part",
        )
        return True
    return False


@lru_cache(maxsize=65_536)
def _fits_service(text: str, service: str) -> bool:
    return any(_fits(text, f) for f in load_catalog().resource_arns(service).values())


def check_action_resources(ctx: Context, st: Statement, base: str) -> None:
    """Each listed action must act on a resource the statement names (or `*` for actions without
    resource-level permissions); else the statement never applies to that action."""
    if st.action is None or st.resource is None or "*" in st.resource:
        return
    catalog = load_catalog()
    for i, pattern in enumerate(st.action):
        actions = catalog.expand(pattern) if pattern not in ("*", "*:*") else []
        if not actions or len(actions) > _EXPANSION_LIMIT:
            continue
        if any(_acts_on(catalog, a, st.resource) for a in actions):
            continue
        where = ctx.item(base, "Action", i, len(st.action))
        if len(actions) == 1:
            formats = catalog.resource_formats(actions[0])
            needs = (
                'takes no resource ARN (its Resource must be "*")'
                if not formats
                else "acts on " + ", ".join(f"{t} ({f})" for t, f in list(formats.items())[:3])
            )
            message = f"{actions[0]} {needs}; no Resource of this statement fits, so it never applies to it"
        else:
            message = (
                f"none of the {len(actions)} actions of {pattern} acts on a Resource this statement names"
            )
        ctx.add("warning", "UNSUPPORTED_RESOURCE_FOR_ACTION", where, message)


def _acts_on(catalog: Catalog, action: str, resources: tuple[str, ...]) -> bool:
    formats = catalog.resource_formats(action)
    return any(_fits(r, f) for r in resources if r.startswith("arn:") for f in formats.values())
