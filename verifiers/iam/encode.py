"""Encode policies into Z3 over a symbolic request `Space`, mirroring the concrete evaluator rule by rule.

`encode_policy(space, policy)` is the formula "this policy allows the request" (an Allow applies and
no Deny); `encode_set` combines policy types as AWS does for same-account requests. The parts
(`encode_statement`, `encode_clause`) are public so that fault localization and repair can reuse them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import cache

import z3

from policies.model import ConditionClause, Policy, PolicySet, Statement
from policies.operators import Operator
from policies.variables import has_variables, split_pattern
from verifiers.iam.conditions import string_glob
from verifiers.iam.globs import ARN_SHAPE, Glob, literal_glob
from verifiers.iam.semantics import action_glob, principal_globs, value_glob
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Space, Template, slot_field
from verifiers.iam.values import parse_date, parse_network, parse_number

__all__ = [
    "encode_clause",
    "encode_policy",
    "encode_policy_parts",
    "encode_set",
    "encode_statement",
    "string_atom",
]


def string_atom(space: Space, field: str, op: Operator, text: str, variables: bool) -> z3.BoolRef:
    """Atom for "field matches the policy string `text` under operator `op`"."""
    pieces = split_pattern(text, variables)
    if has_variables(pieces):
        base = op.positive_base
        template = Template(
            pieces,
            wildcards=op.family == "Arn" or base == "StringLike",
            ignore_case=base in ("StringEqualsIgnoreCase", "Bool"),
            arn=op.family == "Arn",
        )
        return space.template_atom(field, template)
    return space.atom(field, string_glob(op, pieces, lambda _p: None))


@cache
def _resource_glob(text: str, variables: bool) -> Glob | Template:
    pieces = split_pattern(text, variables)
    if has_variables(pieces):
        return Template(pieces, wildcards=True, arn=True)
    return value_glob(pieces, lambda _p: None, wildcards=True, arn=True)


@cache
def _action_glob(text: str) -> Glob:
    return action_glob(text)


def _resource_atom(space: Space, text: str, variables: bool) -> z3.BoolRef:
    glob = _resource_glob(text, variables)
    if isinstance(glob, Template):
        return space.template_atom(RESOURCE, glob)
    return space.atom(RESOURCE, glob)


def _compare(base: str, x: z3.ArithRef, c: object) -> z3.BoolRef:
    value = z3.RealVal(str(c))
    if base.endswith("LessThanEquals"):
        return x <= value
    if base.endswith("LessThan"):
        return x < value
    if base.endswith("GreaterThanEquals"):
        return x >= value
    if base.endswith("GreaterThan"):
        return x > value
    return x == value


def _in_network(space: Space, key: str, slot: int, text: str) -> z3.BoolRef:
    net = parse_network(text)
    if net is None:
        return z3.BoolVal(False)
    ip, six = space.ip(key, slot), space.ip6(key, slot)
    if net.prefixlen == 0:
        prefix_ok: z3.BoolRef = z3.BoolVal(True)
    else:
        width = 128 if isinstance(net, ipaddress.IPv6Network) else 32
        top = width - 1
        low = width - net.prefixlen
        prefix_ok = z3.Extract(top, low, ip) == int(net.network_address) >> low
    family_ok = six if net.version == 6 else z3.Not(six)
    return z3.And(space.ip_ok(key, slot), family_ok, prefix_ok)


def _value_parts(
    space: Space, clause: ConditionClause, op: Operator, slot: int, variables: bool
) -> tuple[z3.BoolRef, list[z3.BoolRef], list[z3.BoolRef]]:
    """(request value valid for the operator, per policy value: matches, per policy value: well-formed)."""
    key = clause.key.lower()
    if op.family in ("Numeric", "Date"):
        parse = parse_number if op.family == "Numeric" else parse_date
        ok_flag = space.num_ok(key, slot) if op.family == "Numeric" else space.date_ok(key, slot)
        consts = [parse(v) for v in clause.values]
        hits = [
            z3.BoolVal(False)
            if c is None
            else z3.And(ok_flag, _compare(op.positive_base, space.real(key, slot), c))
            for c in consts
        ]
        return ok_flag, hits, [z3.BoolVal(c is not None) for c in consts]
    if op.family == "IpAddress":
        hits = [_in_network(space, key, slot, v) for v in clause.values]
        return space.ip_ok(key, slot), hits, [z3.BoolVal(parse_network(v) is not None) for v in clause.values]
    field = slot_field(key, slot)
    valid: z3.BoolRef = z3.BoolVal(True)
    if op.family == "Bool":
        valid = z3.Or(
            space.atom(field, literal_glob("true", ignore_case=True)),
            space.atom(field, literal_glob("false", ignore_case=True)),
        )
    elif op.family == "Arn":
        valid = space.atom(field, ARN_SHAPE)
    hits, oks = [], []
    for text in clause.values:
        pieces = split_pattern(text, variables)
        hits.append(string_atom(space, field, op, text, variables))
        if has_variables(pieces):
            base = op.positive_base
            template = Template(
                pieces, wildcards=base == "StringLike" or op.family == "Arn", arn=op.family == "Arn"
            )
            oks.append(space.var_ok(template))
        else:
            oks.append(z3.BoolVal(not string_glob(op, pieces, lambda _p: None).never))
    return valid, hits, oks


def _single(space: Space, clause: ConditionClause, op: Operator, slot: int, variables: bool) -> z3.BoolRef:
    valid, hits, oks = _value_parts(space, clause, op, slot, variables)
    if op.negated:
        return z3.And(valid, *[z3.And(o, z3.Not(h)) for o, h in zip(oks, hits, strict=True)])
    return z3.And(valid, z3.Or(*hits))


def encode_clause(space: Space, clause: ConditionClause, variables: bool) -> z3.BoolRef:
    """One condition clause, with AWS's rules for missing keys, `IfExists`, `Null` and set qualifiers."""
    op = clause.op
    key = clause.key.lower()
    if key not in space.slots:
        space.prepare([Policy(statements=(Statement(effect="Allow", action=("*",), condition=(clause,)),))])
    present, multi = space.present(key), space.is_list(key)
    if op.family == "Null":
        when_present = any(v.lower() == "false" for v in clause.values)
        when_absent = any(v.lower() == "true" for v in clause.values)
        return z3.If(present, z3.BoolVal(when_present), z3.BoolVal(when_absent))
    slots = range(space.slots[key])
    if op.qualifier == "ForAllValues":
        return z3.Or(
            z3.Not(present),
            z3.And(
                *[z3.Implies(space.used(key, i), _single(space, clause, op, i, variables)) for i in slots]
            ),
        )
    if op.qualifier == "ForAnyValue":
        return z3.And(
            present,
            z3.Or(*[z3.And(space.used(key, i), _single(space, clause, op, i, variables)) for i in slots]),
        )
    absent_value = z3.BoolVal(op.if_exists or op.negated)
    return z3.If(present, z3.And(z3.Not(multi), _single(space, clause, op, 0, variables)), absent_value)


def encode_statement(space: Space, statement: Statement, variables: bool) -> z3.BoolRef:
    """ "This statement applies to the request": action, resource, principal and every condition."""
    parts: list[z3.BoolRef] = []
    if statement.action is not None:
        parts.append(z3.Or(*[space.atom(ACTION, _action_glob(a)) for a in statement.action]))
    elif statement.not_action is not None:
        parts.append(z3.Not(z3.Or(*[space.atom(ACTION, _action_glob(a)) for a in statement.not_action])))
    if statement.resource is not None:
        parts.append(z3.Or(*[_resource_atom(space, r, variables) for r in statement.resource]))
    elif statement.not_resource is not None:
        parts.append(z3.Not(z3.Or(*[_resource_atom(space, r, variables) for r in statement.not_resource])))
    element = statement.principal or statement.not_principal
    if element is not None:
        hit = z3.Or(*[space.atom(PRINCIPAL, g) for g in principal_globs(element)])
        parts.append(hit if statement.principal is not None else z3.Not(hit))
    parts.extend(encode_clause(space, c, variables) for c in statement.condition)
    return z3.And(*parts)


def encode_policy_parts(space: Space, policy: Policy) -> tuple[z3.BoolRef, z3.BoolRef]:
    """(some Allow statement applies, some Deny statement applies)."""
    space.prepare([policy])
    variables = policy.supports_variables
    allows = [encode_statement(space, s, variables) for s in policy.statements if s.effect == "Allow"]
    denies = [encode_statement(space, s, variables) for s in policy.statements if s.effect == "Deny"]
    return z3.Or(*allows), z3.Or(*denies)


def encode_policy(space: Space, policy: Policy | Sequence[Policy]) -> z3.BoolRef:
    """ "The policy (or the union of these identity policies) allows the request"."""
    policies = [policy] if isinstance(policy, Policy) else list(policy)
    parts = [encode_policy_parts(space, p) for p in policies]
    return z3.And(z3.Or(*[a for a, _ in parts]), z3.Not(z3.Or(*[d for _, d in parts])))


def encode_set(space: Space, pset: PolicySet) -> z3.BoolRef:
    """A policy set's decision for a same-account request (cross-account needs the accounts, see evaluate)."""
    groups = {
        name: [encode_policy_parts(space, p) for p in getattr(pset, name)]
        for name in ("identity", "resource", "boundary", "session", "scp")
    }
    deny = z3.Or(*[d for g in groups.values() for _, d in g])
    identity = z3.Or(*[a for a, _ in groups["identity"]])
    for gate in ("boundary", "session"):
        if groups[gate]:
            identity = z3.And(identity, z3.Or(*[a for a, _ in groups[gate]]))
    allowed = z3.Or(identity, *[a for a, _ in groups["resource"]])
    scp = z3.And(*[a for a, _ in groups["scp"]])
    return z3.And(z3.Not(deny), scp, allowed)
