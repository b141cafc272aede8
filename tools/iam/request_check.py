"""A written policy held against the request's own words: what the request names that the policy leaves out.

Z3 proves a synthesized policy equal to the entries it was written from, and the entries are the model's
reading of the request. That reading can drop what the request names (the 1.5B model left out "only from
203.0.113.0/24") or make up what it does not (an account `123456789012`, a region), and the proof cannot
see either. This check reads the request itself, without a model, for the literals a policy must carry
exactly: IPv4 addresses and CIDR blocks, 12-digit account IDs, AWS regions, ARNs, VPC and VPC endpoint
IDs. It reports each one the request names and the policy does not (an account or region only when the
policy's ARNs have a place for one: S3's have none), and each account or region in the policy's ARNs that
the request never names. It reads literals only: "with MFA" or "over HTTPS" are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from verifiers.iam.globs import matches, pattern_glob

__all__ = ["policy_against_request", "request_literals"]

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\w.]*\d)")
_ACCOUNT = re.compile(r"(?<![\w-])\d{12}(?![\w-])")
_REGION = re.compile(
    r"(?<![\w-])(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?-"
    r"(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d(?![\w-])"
)
_ARN = re.compile(r"arn:aws[\w-]*:[^\s\"'`<>,;()\[\]{}]+")
_VPC = re.compile(r"(?<![\w-])vpce?-[0-9a-f]{8,17}(?![\w-])")

_KINDS = (("address", _IPV4), ("account", _ACCOUNT), ("region", _REGION), ("VPC", _VPC))


def _arns(text: str) -> list[str]:
    return [m.group(0).rstrip(".:") for m in _ARN.finditer(text)]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def request_literals(request: str) -> list[tuple[str, str]]:
    """(kind, literal) for each address, account, region, VPC ID and ARN the request names, in order."""
    arns = _unique(_arns(request))
    rest = _ARN.sub(" ", request)  # an ARN's own account and region are checked with the ARN
    found = [(kind, m) for kind, pattern in _KINDS for m in _unique(pattern.findall(rest))]
    return found + [("ARN", a) for a in arns]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _mentions(strings: list[str], kind: str, literal: str) -> bool:
    if kind == "ARN":  # named as it is, or matched by one of the policy's patterns (the engine's globs)
        return any(
            s == literal or (("*" in s or "?" in s) and matches(pattern_glob(s, arn=True), literal))
            for s in strings
        )
    bounded = re.compile(r"(?<![\w.])" + re.escape(literal) + r"(?![\w.-]*\d)")
    return any(bounded.search(s) for s in strings)


def policy_against_request(policy: Mapping[str, Any], request: str) -> list[str]:
    """What a person should check before using `policy` for `request`: each literal the request names that
    the policy does not (an ARN counts as named when a policy pattern matches it), then each account and
    region in the policy's ARNs that the request does not name. Empty when the request names nothing the
    policy lacks and the policy adds none."""
    strings = list(_strings(policy))
    fields = [a.split(":") for s in strings for a in _arns(s)]
    # an S3 bucket's or object's ARN has no account or region: a request that names them for such a policy
    # (bucket names are global) leaves nothing out
    anything = "*" in strings  # a resource (or principal) of any account and region
    without = {
        "account": bool(fields) and not anything and all(len(f) > 4 and not f[4] for f in fields),
        "region": bool(fields) and not anything and all(len(f) > 3 and not f[3] for f in fields),
    }
    out = [
        f"the request names the {kind} {literal}; the policy does not mention it"
        for kind, literal in request_literals(request)
        if not without.get(kind) and not _mentions(strings, kind, literal)
    ]
    named = set(_ACCOUNT.findall(request)) | set(_REGION.findall(request))
    added: dict[str, set[str]] = {"account": set(), "region": set()}
    for parts in fields:
        if len(parts) >= 5:
            region, account = parts[3], parts[4]
            if _REGION.fullmatch(region) and region not in named:
                added["region"].add(region)
            if _ACCOUNT.fullmatch(account) and account not in named:
                added["account"].add(account)
    for kind in ("account", "region"):
        for value in sorted(added[kind]):
            out.append(f"the policy's ARNs name the {kind} {value}, which the request does not: check it")
    return out
