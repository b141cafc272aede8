"""Generate concrete requests around a policy, for sampling checks and CloudFix-style request suites.

Requests are drawn from what the policy itself names (its action patterns expanded over the catalog, its
resource patterns with the wildcards filled, its condition keys absent or set to a listed or unlisted
value), plus a share of unrelated actions and resources, so both allowed and denied requests occur.
Everything is seeded: the same policy and seed give the same requests.
"""

from __future__ import annotations

import ipaddress
import json
import random
from typing import Any

__all__ = ["condition_values", "fill_pattern", "sample_request_dicts"]

_OTHER_RESOURCES = ("arn:aws:s3:::unrelated-bucket/key", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc")
_OTHER_ACTIONS = ("s3:GetObject", "ec2:RunInstances", "iam:PassRole", "dynamodb:PutItem", "sts:AssumeRole")


def _statements(doc: Any) -> list[dict[str, Any]]:
    raw = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if value is None:
        return []
    return [str(value)]


def fill_pattern(pattern: str, rng: random.Random) -> str:
    """A concrete string matching `pattern`: `*` becomes a short token, `?` one letter, `${...}` a name."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("${", i) and "}" in pattern[i:]:
            end = pattern.index("}", i)
            out.append(rng.choice(["alice", "bob"]))
            i = end + 1
            continue
        ch = pattern[i]
        out.append(rng.choice(["x1", "data", "a/b"]) if ch == "*" else rng.choice("abc") if ch == "?" else ch)
        i += 1
    return "".join(out)


def condition_values(doc: Any) -> dict[str, list[str]]:
    """Condition key -> the values the policy compares it with."""
    found: dict[str, list[str]] = {}
    for st in _statements(doc):
        cond = st.get("Condition")
        if isinstance(cond, dict):
            for block in cond.values():
                if isinstance(block, dict):
                    for key, value in block.items():
                        found.setdefault(key, []).extend(_strings(value))
    return found


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _context_value(values: list[str], rng: random.Random) -> str:
    """A value of the key's own type (as the policy uses it): inside the listed values or outside them."""
    inside = bool(values) and rng.random() < 0.7
    value = rng.choice(values) if values else "other-value"
    if values and all(v.lower() in ("true", "false") for v in values):
        return rng.choice(["true", "false"])
    if values and all(_is_network(v) for v in values):
        return str(ipaddress.ip_network(value, strict=False).network_address) if inside else "198.51.100.7"
    if values and all(v.replace(".", "", 1).isdigit() for v in values):
        return str(int(float(value)) + (0 if inside else rng.choice([-1, 1])))
    return fill_pattern(value, rng) if inside else "other-value"


def sample_request_dicts(doc: Any, count: int, seed: int, catalog: Any | None = None) -> list[dict[str, Any]]:
    """`count` distinct request objects (`{"action", "resource", "context"}`) drawn around `doc`."""
    rng = random.Random(f"{seed}:{json.dumps(doc, sort_keys=True)}")
    actions: list[str] = []
    resources: list[str] = []
    for st in _statements(doc):
        for pattern in _strings(st.get("Action")) + _strings(st.get("NotAction")):
            expanded = catalog.expand(pattern) if catalog is not None else []
            actions.extend(
                rng.sample(expanded, min(5, len(expanded))) if expanded else [pattern.replace("*", "Get")]
            )
        resources.extend(_strings(st.get("Resource")) + _strings(st.get("NotResource")))
    actions = sorted(set(actions)) or list(_OTHER_ACTIONS)
    resources = sorted(set(resources)) or ["*"]
    keys = condition_values(doc)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for _ in range(count * 20):
        if len(out) == count:
            break
        action = rng.choice(actions) if rng.random() < 0.85 else rng.choice(_OTHER_ACTIONS)
        pattern = rng.choice(resources)
        if pattern == "*" or rng.random() >= 0.85:
            resource = rng.choice(_OTHER_RESOURCES)
        else:
            resource = fill_pattern(pattern, rng)
        context = {k: _context_value(v, rng) for k, v in keys.items() if rng.random() < 0.75}
        request = {"action": action, "resource": resource, "context": context}
        text = json.dumps(request, sort_keys=True)
        if text not in seen:
            seen.add(text)
            out.append(request)
    return out
