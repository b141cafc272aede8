"""Generate CloudFix-style request suites for policies of the Quacky corpus, and write test fixtures.

CloudFix's generator (README of bethelhall/fixmypolicy): N requests per policy, 60% allow / 40% deny,
one action and one resource per request, and a percentage of requests with flipped expected effects
(those make the policy faulty with respect to the suite). This is our own generator in that format:
requests are drawn from the policy's statements (actions expanded from the catalog, resource patterns
instantiated, conditions satisfied), mangled for denies, labelled with the concrete evaluator, then a
share of expectations is flipped. Deterministic for a seed.

Usage: python bench/iam_repair_suites.py [--write-fixtures]
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Any

from policies import load_catalog, parse_policy
from policies.model import ConditionClause, Policy, Statement
from policies.request import Request
from verifiers.iam.evaluate import account_id, evaluate
from verifiers.iam.repair.spec import request_key

__all__ = ["FIXTURE_POLICIES", "corpus_originals", "generate_suite", "main"]

PRINCIPAL = "arn:aws:iam::123456789012:user/bob"
FIXTURE_POLICIES = (
    "ec2/ec2_allow_ebs_volume_owners/policy",
    "ec2/ec2_restrict_to_specific_instance/policy",
    "iam/iam_policy_allow_adding_deleting_users/fixed",
    "s3/s3_allow_all_except_delete/initial",
    "s3/s3_public_access/policy",
    "s3/s3_policy_or_condition/policy",
)


def corpus_originals() -> dict[str, dict[str, Any]]:
    from eval.datasets import load_policies

    return {k: v for k, v in load_policies().items() if not k.startswith("m-")}


def _token(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(rng.randint(4, 8)))


def _instantiate(pattern: str, rng: random.Random) -> str:
    text = re.sub(r"\$\{aws:username\}", "bob", pattern)
    text = re.sub(r"\$\{[^}]*\}", "x", text)
    return "".join(_token(rng) if c == "*" else "q" if c == "?" else c for c in text)


def _resource(st: Statement, action: str, rng: random.Random) -> str:
    patterns = [p for p in (st.resource or ()) if p != "*"]
    if patterns:
        return _instantiate(rng.choice(patterns), rng)
    service = action.split(":")[0]
    return f"arn:aws:{service}:us-east-1:123456789012:thing/{_token(rng)}"


def _satisfy(clause: ConditionClause, rng: random.Random) -> str | None:
    op = clause.op
    value = clause.values[0]
    if op.family == "Null":
        return None if value.lower() == "true" else _token(rng)
    if op.negated:
        return f"not-{_token(rng)}"
    if op.family == "IpAddress":
        return value.split("/")[0]
    if op.family == "Numeric":
        base = float(value)
        return (
            str(int(base - 1)) if "Less" in op.base else str(int(base + 1)) if "Greater" in op.base else value
        )
    if op.family == "Date":
        return (
            "2020-01-01T00:00:00Z"
            if "Less" in op.base
            else "2030-01-01T00:00:00Z"
            if "Greater" in op.base
            else value
        )
    return _instantiate(value, rng)


def _draw(policy: Policy, rng: random.Random, catalog_actions: list[str]) -> Request:
    st = rng.choice(policy.statements)
    catalog = load_catalog()
    if st.action:
        expanded = catalog.expand(rng.choice(st.action)) or [rng.choice(catalog_actions)]
        action = rng.choice(expanded)
    else:
        action = rng.choice(catalog_actions)
    resource = _resource(st, action, rng)
    context: dict[str, str | list[str]] = {"aws:username": "bob"}
    for clause in st.condition:
        value = _satisfy(clause, rng)
        if value is not None and not clause.key.startswith("${"):
            context[clause.key] = value
    roll = rng.random()
    if roll < 0.2:  # CloudFix-style deny: a mangled resource
        resource = (
            resource.rsplit("/", 1)[0] + f"/forbidden-{_token(rng)}"
            if "/" in resource
            else resource + "-forbidden-resource"
        )
    elif roll < 0.35:  # an action of another service on this resource
        action = rng.choice(catalog_actions)
    # The caller is in the resource's account: across accounts an identity policy alone allows nothing.
    account = account_id(resource)
    principal = PRINCIPAL if account is None else PRINCIPAL.replace("123456789012", account)
    return Request(action=action, resource=resource, principal=principal, context=context)


def generate_suite(policy_doc: dict[str, Any], n: int, seed: int, flip_share: float = 0.2) -> dict[str, Any]:
    """A CloudFix-format suite of `n` requests (60% allow, 40% deny by the policy), `flip_share` flipped."""
    rng = random.Random(seed)
    policy = parse_policy(policy_doc)
    catalog_actions = list(load_catalog().all_actions)
    allowed: dict[tuple[str, str, str, str], Request] = {}
    denied: dict[tuple[str, str, str, str], Request] = {}
    want_allow = round(n * 0.6)
    for _ in range(n * 60):
        if len(allowed) >= want_allow and len(denied) >= n - want_allow:
            break
        request = _draw(policy, rng, catalog_actions)
        pool = allowed if evaluate(policy, request).allowed else denied
        pool.setdefault(request_key(request), request)
    chosen = [(r, "Allow") for r in list(allowed.values())[:want_allow]]
    chosen += [(r, "Deny") for r in list(denied.values())[: n - len(chosen)]]
    flips = set(rng.sample(range(len(chosen)), k=min(len(chosen), round(len(chosen) * flip_share))))
    out = []
    for i, (r, effect) in enumerate(chosen):
        if i in flips:
            effect = "Deny" if effect == "Allow" else "Allow"
        condition = {"StringEquals": {k: v for k, v in r.context.items()}}
        out.append(
            {
                "id": f"{effect.lower()}_{seed}_{i}",
                "Effect": effect,
                "Action": r.action,
                "Resource": r.resource,
                "Principal": r.principal,
                "Condition": condition,
            }
        )
    return {"Requests": out}


def main(argv: list[str]) -> int:
    originals = corpus_originals()
    if "--write-fixtures" in argv:
        root = Path(__file__).resolve().parent.parent / "tests/iam_repair/fixtures/generated"
        root.mkdir(parents=True, exist_ok=True)
        for i, key in enumerate(FIXTURE_POLICIES):
            name = key.replace("/", "__")
            suite = generate_suite(originals[key], 10, seed=1000 + i)
            (root / f"{name}.json").write_text(
                json.dumps({"policy": originals[key], "suite": suite}, indent=1) + "\n"
            )
        print(f"wrote {len(FIXTURE_POLICIES)} fixtures to {root}")
        return 0
    key = argv[0] if argv else FIXTURE_POLICIES[0]
    print(json.dumps(generate_suite(originals[key], 10, seed=1), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
