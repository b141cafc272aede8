"""Pin the symbolic request space to one concrete request, and decide it symbolically.

`pin_request(space, request)` is the formula "the symbolic request is exactly this one"; it lets the
Z3 engine decide a concrete request (`decide`, used to cross-check the concrete evaluator), and lets
repair keep must-allow requests allowed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import z3

from policies.model import Policy, PolicySet
from policies.request import Request
from verifiers.iam.budget import BudgetExceededError, remaining_ms, time_budget
from verifiers.iam.encode import encode_policy, encode_set
from verifiers.iam.evaluate import same_account
from verifiers.iam.exclusive import exclusive
from verifiers.iam.globs import literal_glob
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, SolveResult, solve
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Space, slot_field
from verifiers.iam.values import parse_date, parse_ip, parse_number

__all__ = ["decide", "pin_request", "reserve_slots"]


def reserve_slots(space: Space, request: Request) -> None:
    """Give each multivalued key of the request enough value slots; call before `Space.prepare`."""
    for key, value in request.context.items():
        if isinstance(value, list):
            space.slots[key.lower()] = max(space.slots.get(key.lower(), 1), len(value), 1)


def _pin_slot(space: Space, key: str, slot: int, value: str) -> list[z3.BoolRef]:
    out = [space.atom(slot_field(key, slot), literal_glob(value))]
    fams = space.families.get(key, set())
    if fams & {"Numeric", "Date"}:
        number, moment = parse_number(value), parse_date(value)
        out.append(space.num_ok(key, slot) == (number is not None))
        out.append(space.date_ok(key, slot) == (moment is not None))
        if moment is not None:
            out.append(space.real(key, slot) == z3.RealVal(str(moment)))
    if "IpAddress" in fams:
        ip = parse_ip(value)
        out.append(space.ip_ok(key, slot) == (ip is not None))
        if ip is not None:
            out.append(space.ip6(key, slot) == (isinstance(ip, ipaddress.IPv6Address)))
            out.append(space.ip(key, slot) == int(ip))
    return out


def pin_request(space: Space, request: Request) -> z3.BoolRef:
    """The formula "the symbolic request equals `request`" over the keys the space knows."""
    parts = [
        space.atom(ACTION, literal_glob(request.action.lower())),
        space.atom(RESOURCE, literal_glob(request.resource)),
        space.atom(PRINCIPAL, literal_glob(request.principal or "")),
    ]
    for key, n in space.slots.items():
        value = request.context_value(key)
        if value is None:
            parts.append(z3.Not(space.present(key)))
            continue
        parts.append(space.present(key))
        values = [value] if isinstance(value, str) else value
        parts.append(space.is_list(key) == isinstance(value, list))
        for i in range(n):
            used = i < len(values)
            parts.append(space.used(key, i) == used)
            if used:
                parts.extend(_pin_slot(space, key, i, values[i]))
    return z3.And(*parts)


@exclusive
def decide(
    policy: Policy | Sequence[Policy] | PolicySet, request: Request, *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> SolveResult:
    """The symbolic engine's decision on one request: `sat` means allowed, `unsat` denied."""
    if isinstance(policy, PolicySet):
        policies = list(policy.all_policies())
    else:
        policies = [policy] if isinstance(policy, Policy) else list(policy)
    try:
        with time_budget(timeout_ms):
            space = Space()
            reserve_slots(space, request)
            space.prepare(policies)
            same = same_account(request)
            if isinstance(policy, PolicySet):
                allowed = encode_set(space, policy, same_account=same)
            else:
                allowed = encode_policy(space, policies, same_account=same)
            formula = z3.And(allowed, pin_request(space, request))
            return solve(space, formula, timeout_ms=remaining_ms(timeout_ms))
    except BudgetExceededError as exc:
        return SolveResult("unknown", reason=str(exc))
