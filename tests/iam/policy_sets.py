"""A seeded generator of policy sets and requests for differential tests of AWS's evaluation logic.

Each case is a `PolicySet` (identity policies, at most one resource policy, a permissions boundary, a
session policy, SCPs) and one request, drawn from small vocabularies so that statements often match:
principals of two accounts (users, role sessions), resource policies naming an account (bare or `root`),
a role, a session, a user or `*`, `NotPrincipal` denies, cross-account resources, `NotResource` with
policy variables that may not resolve, and set operators over keys whose value may be the empty string.
The same seed gives the same cases. Used by tests/iam/test_iam_simulate_diff.py, tests/iam/test_engines_agree.py
and bench/iam_differential.py.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from policies import PolicySet, Request, parse_policy

__all__ = ["ACCOUNTS", "Case", "generate_cases", "random_case"]

ACCOUNTS = ("111122223333", "444455556666")
A, B = ACCOUNTS


def _user(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def _session(account: str, role: str, name: str = "s1") -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role}/{name}"


def _table(account: str, name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:{account}:table/{name}"


PRINCIPALS = (
    _user(A, "alice"),
    _session(A, "Reader"),
    _session(A, "Writer"),
    _user(B, "bob"),
    _session(B, "Reader"),
)
# DynamoDB tables: a resource type with a `table/` prefix (iam-simulate splits a resource without one at
# the first colon, which a policy variable contains), resource policies, and the default authorizer.
TABLES = (_table(A, "orders"), _table(A, "alice-jobs"), _table(B, "orders"))
ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteTable")
ACTION_PATTERNS: tuple[Any, ...] = (
    "dynamodb:GetItem",
    "dynamodb:*",
    "dynamodb:Put*",
    "*",
    ["dynamodb:GetItem", "dynamodb:DeleteTable"],
)
RESOURCE_PATTERNS: tuple[Any, ...] = (
    "*",
    _table(A, "orders"),
    _table(B, "orders"),
    "arn:aws:dynamodb:*:*:table/orders",
    f"arn:aws:dynamodb:us-east-1:{A}:table/*",
    [_table(A, "orders"), _table(B, "orders")],
)
NOT_RESOURCE_PATTERNS: tuple[Any, ...] = (
    _table(A, "orders"),
    "arn:aws:dynamodb:*:*:table/${aws:username}-*",
    f"arn:aws:dynamodb:us-east-1:{A}:table/" + "${aws:PrincipalTag/team}",
)
PRINCIPAL_ELEMENTS: tuple[Any, ...] = (
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": B},
    {"AWS": f"arn:aws:iam::{A}:role/team/Reader"},
    {"AWS": f"arn:aws:iam::{B}:role/Reader"},
    {"AWS": _session(A, "Writer")},
    {"AWS": _user(A, "alice")},
    {"AWS": _user(B, "bob")},
    "*",
    {"AWS": "*"},
    {"AWS": [_user(A, "alice"), B]},
)
CONDITIONS: tuple[tuple[str, str, list[str]], ...] = (
    ("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"]),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["team"]),
    ("ForAnyValue:StringLike", "aws:TagKeys", ["", "e*"]),
    ("StringEquals", "aws:username", ["alice"]),
    ("StringNotEquals", "aws:PrincipalTag/team", ["red"]),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8"]),
)
CONTEXT: dict[str, tuple[Any, ...]] = {
    "aws:username": ("alice", "bob", ""),
    "aws:TagKeys": ("", [""], ["team"], ["", "team"], ["x"], ["env", "team"], []),
    "aws:PrincipalTag/team": ("red", "orders", ""),
    "aws:SourceIp": ("10.1.2.3", "192.0.2.1"),
}


@dataclass(frozen=True)
class Case:
    """One policy set and one request; `line` is the JSON form the iam-simulate runner reads."""

    policies: PolicySet
    request: Request
    docs: dict[str, Any]

    def line(self) -> str:
        return json.dumps(
            {**self.docs, "request": self.request.to_json() | {"principal": self.request.principal}}
        )


def _statement(rng: random.Random, effect: str, resource_policy: bool) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": effect}
    st["NotAction" if rng.random() < 0.1 else "Action"] = rng.choice(ACTION_PATTERNS)
    if rng.random() < 0.2:
        st["NotResource"] = rng.choice(NOT_RESOURCE_PATTERNS)
    else:
        st["Resource"] = rng.choice(RESOURCE_PATTERNS)
    if resource_policy:
        if effect == "Deny" and rng.random() < 0.25:
            st["NotPrincipal"] = rng.choice(PRINCIPAL_ELEMENTS[:8])
        else:
            st["Principal"] = rng.choice(PRINCIPAL_ELEMENTS)
    if rng.random() < 0.4:
        op, key, values = rng.choice(CONDITIONS)
        st["Condition"] = {op: {key: values}}
    return st


def _policy(rng: random.Random, *, resource_policy: bool = False, deny_share: float = 0.2) -> dict[str, Any]:
    count = rng.randint(1, 3)
    statements = [
        _statement(rng, "Deny" if rng.random() < deny_share else "Allow", resource_policy)
        for _ in range(count)
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def _request(rng: random.Random) -> Request:
    resource = rng.choice(TABLES)
    context = {key: rng.choice(values) for key, values in CONTEXT.items() if rng.random() < 0.5}
    return Request(
        action=rng.choice(ACTIONS),
        resource=resource,
        principal=rng.choice(PRINCIPALS),
        context=context,
        resource_account=resource.split(":")[4],
    )


def random_case(rng: random.Random) -> Case:
    docs: dict[str, Any] = {
        "identity": [_policy(rng) for _ in range(rng.choice((0, 1, 1, 1, 2)))],
        "resource": _policy(rng, resource_policy=True) if rng.random() < 0.7 else None,
        "boundary": [_policy(rng, deny_share=0.1)] if rng.random() < 0.3 else [],
        "session": _policy(rng, deny_share=0.1) if rng.random() < 0.25 else None,
        "scp": [_policy(rng, deny_share=0.15) for _ in range(rng.choice((0, 0, 1, 2)))],
    }
    pset = PolicySet(
        identity=tuple(parse_policy(p) for p in docs["identity"]),
        resource=(parse_policy(docs["resource"]),) if docs["resource"] else (),
        boundary=tuple(parse_policy(p) for p in docs["boundary"]),
        session=(parse_policy(docs["session"]),) if docs["session"] else (),
        scp=tuple(parse_policy(p) for p in docs["scp"]),
    )
    return Case(pset, _request(rng), docs)


def generate_cases(n: int, seed: int = 14) -> list[Case]:
    rng = random.Random(seed)
    return [random_case(rng) for _ in range(n)]
