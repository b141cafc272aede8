"""Encode policies into Z3 over a symbolic request `Space`, mirroring the concrete evaluator rule by rule.

`encode_policy(space, policy)` is the formula "this policy allows the request" (an Allow applies and
no Deny); `encode_set` combines policy types as AWS does, within and across accounts. The parts
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
from verifiers.iam.budget import check
from verifiers.iam.conditions import string_glob
from verifiers.iam.globs import ARN_SHAPE, Glob, literal_glob
from verifiers.iam.logic import all_of, any_of
from verifiers.iam.semantics import PrincipalKind, action_glob, principal_matchers, value_glob
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Space, Template, slot_field
from verifiers.iam.values import parse_date, parse_network, parse_number

__all__ = [
    "encode_clause",
    "encode_policy",
    "encode_policy_parts",
    "encode_set",
    "encode_statement",
    "principal_match",
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
    return all_of([space.ip_ok(key, slot), family_ok, prefix_ok])


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
            else all_of([ok_flag, _compare(op.positive_base, space.real(key, slot), c)])
            for c in consts
        ]
        return ok_flag, hits, [z3.BoolVal(c is not None) for c in consts]
    if op.family == "IpAddress":
        hits = [_in_network(space, key, slot, v) for v in clause.values]
        return space.ip_ok(key, slot), hits, [z3.BoolVal(parse_network(v) is not None) for v in clause.values]
    field = slot_field(key, slot)
    valid: z3.BoolRef = z3.BoolVal(True)
    if op.family == "Bool":
        valid = any_of(
            [
                space.atom(field, literal_glob("true", ignore_case=True)),
                space.atom(field, literal_glob("false", ignore_case=True)),
            ]
        )
    elif op.family == "Arn":
        valid = space.atom(field, ARN_SHAPE)
    hits, oks = [], []
    for n, text in enumerate(clause.values):
        if n % 256 == 255:
            check("encoding a condition's values")
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
        return all_of([valid, *[z3.And(o, z3.Not(h)) for o, h in zip(oks, hits, strict=True)]])
    return all_of([valid, any_of(hits)])


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
    if op.qualifier:
        # A set operator ranges over the used slots that hold data: an empty-string value is no data.
        data = [all_of([space.used(key, i), z3.Not(space.empty(key, i))]) for i in slots]
        holds = [_single(space, clause, op, i, variables) for i in slots]
        if op.qualifier == "ForAllValues":
            return any_of(
                [z3.Not(present), all_of([z3.Implies(d, h) for d, h in zip(data, holds, strict=True)])]
            )
        return all_of([present, any_of([all_of([d, h]) for d, h in zip(data, holds, strict=True)])])
    absent_value = z3.BoolVal(op.if_exists or op.negated)
    return z3.If(present, all_of([z3.Not(multi), _single(space, clause, op, 0, variables)]), absent_value)


def _statement_body(space: Space, statement: Statement, variables: bool) -> z3.BoolRef:
    """Action, resource and conditions: everything but the principal (encoded once per space: two
    versions of a large policy share most statements)."""
    check("encoding the policies")
    key = (statement.model_dump_json(exclude={"sid", "index", "principal", "not_principal"}), variables)
    known = space.encoded.get(key)
    if known is None:
        known = space.encoded[key] = _encode_body(space, statement, variables)
    return known


def _encode_body(space: Space, statement: Statement, variables: bool) -> z3.BoolRef:
    parts: list[z3.BoolRef] = []
    if statement.action is not None:
        parts.append(any_of([space.atom(ACTION, _action_glob(a)) for a in statement.action]))
    elif statement.not_action is not None:
        parts.append(z3.Not(any_of([space.atom(ACTION, _action_glob(a)) for a in statement.not_action])))
    if statement.resource is not None:
        parts.append(any_of([_resource_atom(space, r, variables) for r in statement.resource]))
    elif statement.not_resource is not None:
        parts.append(z3.Not(any_of([_resource_atom(space, r, variables) for r in statement.not_resource])))
        # An unresolvable variable in NotResource makes the statement not apply (see evaluate).
        templates = [
            t for r in statement.not_resource if isinstance(t := _resource_glob(r, variables), Template)
        ]
        parts.extend(space.var_ok(t) for t in templates)
    parts.extend(encode_clause(space, c, variables) for c in statement.condition)
    return all_of(parts)


def principal_match(space: Space, statement: Statement) -> dict[PrincipalKind, z3.BoolRef]:
    """How the statement's Principal/NotPrincipal matches the request's principal, by kind (see
    `verifiers.iam.evaluate.principal_kinds`)."""
    element = statement.principal or statement.not_principal
    if element is None:
        return {"direct": z3.BoolVal(True)}
    matchers = principal_matchers(element)
    if statement.not_principal is not None:
        return {"direct": z3.Not(any_of([space.atom(PRINCIPAL, g) for _, g in matchers]))}
    out: dict[PrincipalKind, z3.BoolRef] = {}
    for kind in ("direct", "role", "account"):
        atoms = [space.atom(PRINCIPAL, g) for k, g in matchers if k == kind]
        if atoms:
            out[kind] = any_of(atoms)
    return out


def encode_statement(space: Space, statement: Statement, variables: bool) -> z3.BoolRef:
    """ "This statement applies to the request": action, resource, principal and every condition."""
    return all_of(
        [
            _statement_body(space, statement, variables),
            any_of(list(principal_match(space, statement).values())),
        ]
    )


def encode_policy_parts(space: Space, policy: Policy) -> tuple[z3.BoolRef, z3.BoolRef]:
    """(some Allow statement applies, some Deny statement applies)."""
    space.prepare([policy])
    variables = policy.supports_variables
    allows = [encode_statement(space, s, variables) for s in policy.statements if s.effect == "Allow"]
    denies = [encode_statement(space, s, variables) for s in policy.statements if s.effect == "Deny"]
    return any_of(allows), any_of(denies)


def encode_policy(
    space: Space, policy: Policy | Sequence[Policy], *, same_account: bool | None = None
) -> z3.BoolRef:
    """ "The policy (or the union of these identity policies) allows the request".

    Identity policies alone allow nothing across accounts. `same_account` fixes that relation for a
    concrete request; when it is None and no statement prepared in the space has a Principal, the
    request's principal matters to no formula of the query and this one leaves it out (a witness then
    has no principal: same account). Prepare every policy of a query before encoding any of them."""
    policies = [policy] if isinstance(policy, Policy) else list(policy)
    parts = [encode_policy_parts(space, p) for p in policies]
    allowed = all_of([any_of([a for a, _ in parts]), z3.Not(any_of([d for _, d in parts]))])
    if same_account is not None:
        return all_of([allowed, z3.BoolVal(same_account)])
    if space.principals:
        return all_of([allowed, space.same_account()])
    return allowed


def _resource_allows(
    space: Space, policy: Policy, boundary: bool
) -> tuple[dict[PrincipalKind, z3.BoolRef], z3.BoolRef]:
    """For a resource policy: (its Allow statements by how they name the principal, some Deny applies).
    With a permissions boundary on the principal, a Deny with NotPrincipal applies whatever it lists."""
    space.prepare([policy])
    variables = policy.supports_variables
    allows: dict[PrincipalKind, list[z3.BoolRef]] = {"direct": [], "role": [], "account": []}
    denies = []
    for st in policy.statements:
        body = _statement_body(space, st, variables)
        kinds = principal_match(space, st)
        if st.effect == "Deny":
            bounded = boundary and st.not_principal is not None
            denies.append(body if bounded else all_of([body, any_of(list(kinds.values()))]))
            continue
        for kind, hit in kinds.items():
            allows[kind].append(all_of([body, hit]))
    return {k: any_of(v) for k, v in allows.items()}, any_of(denies)


def encode_set(space: Space, pset: PolicySet, *, same_account: bool | None = None) -> z3.BoolRef:
    """A policy set's decision (`verifiers.iam.evaluate` rule by rule). `same_account` fixes whether the
    principal and the resource share an account; None leaves it to the symbolic request."""
    groups = {
        name: [encode_policy_parts(space, p) for p in getattr(pset, name)]
        for name in ("identity", "boundary", "session", "scp")
    }
    resource = [_resource_allows(space, p, bool(pset.boundary)) for p in pset.resource]
    deny = any_of([*[d for g in groups.values() for _, d in g], *[d for _, d in resource]])
    gates = all_of([any_of([a for a, _ in groups[g]]) for g in ("boundary", "session") if groups[g]])
    identity_ok = all_of([any_of([a for a, _ in groups["identity"]]), gates])
    by_kind = {k: any_of([r[k] for r, _ in resource]) for k in ("direct", "role", "account")}
    same = any_of([identity_ok, by_kind["direct"], all_of([by_kind["role"], gates])])
    cross = all_of([identity_ok, any_of(list(by_kind.values()))])
    if same_account is None:
        relation = space.same_account()
        allowed = z3.If(relation, same, cross)
    else:
        allowed = same if same_account else cross
    scp = all_of([a for a, _ in groups["scp"]])
    return all_of([z3.Not(deny), scp, allowed])
