"""Turn a whole Z3 model into a concrete `Request`: every field's witness, with the values of policy
variables searched jointly with the fields whose patterns use them."""

from __future__ import annotations

import contextlib
import re

import z3

from policies.request import ContextValue, Request
from verifiers.iam.evaluate import account_id
from verifiers.iam.globs import WitnessBudgetExceededError, find_witnesses, matches
from verifiers.iam.semantics import account_globs
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Atom, Space, Template, slot_field
from verifiers.iam.witness import (
    DEFAULTS,
    Block,
    Refs,
    Round,
    field_order,
    instantiate,
    lit,
    over_approximation,
    pretty_action,
    relevant,
    solve_field,
    typed_consistent,
)

__all__ = ["realize"]


def _solve_fields(rnd: Round, fields: list[str], refs: Refs) -> Block | None:
    for fld in fields:
        if not relevant(rnd, fld):
            continue
        lits = [(ref, atom, rnd.true(ref)) for ref, atom in refs.get(fld, [])]
        if not lits and fld in DEFAULTS:
            rnd.values[fld] = DEFAULTS[fld]
            continue
        got = solve_field(rnd, fld, lits)
        if isinstance(got, Block):
            return got
        if fld == ACTION:
            pretty = pretty_action(
                [a.glob for _, a, v in lits if v and a.glob], [a.glob for _, a, v in lits if not v and a.glob]
            )
            got = pretty or got
        rnd.values[fld] = got
    return None


def _template_regex(template: Template) -> re.Pattern[str]:
    """A regex whose first group reads the variable's value off a string the template matches.

    Every star (the variable's too) but the last is an atomic lazy group, as in `verifiers.iam.globs`:
    the leftmost reading, found without backtracking, which is all a candidate value needs."""
    items: list[str] = []  # "*": a star, "(": the variable, else one regex atom
    for piece in template.pieces:
        if piece.kind == "var":
            items.append("(")
        elif piece.kind == "pattern" and template.wildcards:
            items.extend("*" if c == "*" else "." if c == "?" else re.escape(c) for c in piece.text)
        else:
            items.extend(map(re.escape, piece.text))
    stars = [i for i, item in enumerate(items) if item in ("*", "(")]
    out = []
    for n, start in enumerate([-1, *stars]):
        end = stars[n] if n < len(stars) else len(items)
        segment = "".join(items[start + 1 : end])
        if start < 0:
            out.append(segment)
            continue
        star = "(.*?)" if items[start] == "(" else ".*?"
        out.append(f"(?>{star}{segment})" if start != stars[-1] else star.replace("*?", "*") + segment)
    flags = re.DOTALL | (re.IGNORECASE if template.ignore_case else 0)
    return re.compile("".join(out), flags)


def _variable_candidates(rnd: Round, key: str, refs: Refs) -> list[str]:
    """Values to try for a policy variable's key: its own witnesses, and values read off literal fields."""
    fld = slot_field(key, 0)
    lits = [(a.glob, rnd.true(ref)) for ref, a in refs.get(fld, []) if a.glob is not None]
    pos = [g for g, v in lits if v]
    neg = [g for g, v in lits if not v]
    out: list[str] = []
    for items in refs.values():
        static_pos = [a.glob for ref, a in items if a.glob is not None and rnd.true(ref)]
        static_neg = [a.glob for ref, a in items if a.glob is not None and not rnd.true(ref)]
        templates = [a.template for ref, a in items if a.template is not None and rnd.true(ref)]
        mine = [t for t in templates if key in t.var_keys and len(t.var_keys) == 1]
        if not mine:
            continue
        # Strings the field could take if the variable were free; read the variable's value off them.
        texts = [g.literal() for g in static_pos]
        with contextlib.suppress(WitnessBudgetExceededError):
            over = [*static_pos, *(over_approximation(t) for t in templates)]
            texts += find_witnesses(over, static_neg, limit=4) + [instantiate(g) for g in over]
        for t in mine:
            regex = _template_regex(t)
            for text in texts:
                m = regex.fullmatch(text) if text is not None else None
                if m:
                    out.append(m.group(1))
    with contextlib.suppress(WitnessBudgetExceededError):
        out.extend(find_witnesses(pos, neg, limit=8))
    return [
        u
        for u in dict.fromkeys(out)
        if all(matches(g, u) for g in pos)
        and not any(matches(g, u) for g in neg)
        and typed_consistent(rnd, fld, u)
    ]


def _determined(rnd: Round, key: str, refs: Refs) -> bool:
    """The model fixes this variable's value: absent (its default applies) or pinned to one literal."""
    if key not in rnd.space.slots or not rnd.true(rnd.space.present(key)):
        return True
    return any(
        a.glob is not None and a.glob.literal() is not None and rnd.true(r)
        for r, a in refs.get(slot_field(key, 0), [])
    )


def _var_keys(space: Space) -> list[str]:
    return sorted({k for a in space.atoms.values() if a.template for k in a.template.var_keys})


def _link_accounts(rnd: Round, refs: Refs) -> Block | None:
    """When the principal and the resource both name accounts no policy mentions, make them equal or
    different as the model says (`Space.same_account`), by choosing the principal again."""
    space = rnd.space
    if not (rnd.true(space.other_account(PRINCIPAL)) and rnd.true(space.other_account(RESOURCE))):
        return None
    want = rnd.true(space.equal_other_accounts())
    mine, theirs = account_id(rnd.values.get(PRINCIPAL)), account_id(rnd.values.get(RESOURCE))
    if theirs is None or (mine == theirs) == want:
        return None
    lits = [(ref, atom, rnd.true(ref)) for ref, atom in refs.get(PRINCIPAL, [])]
    extra = [(z3.Bool("account-link"), Atom(PRINCIPAL, glob=g), want) for g in account_globs(theirs)]
    readable = f"arn:aws:iam::{theirs}:user/example"
    if want and all(matches(a.glob, readable) == v for _, a, v in lits if a.glob is not None):
        rnd.values[PRINCIPAL] = readable
        return None
    got = solve_field(rnd, PRINCIPAL, lits + (extra[1:] if want else extra))
    if isinstance(got, str):
        rnd.values[PRINCIPAL] = got
        return None
    both = [(r, v) for f in (PRINCIPAL, RESOURCE) for r, _a in refs.get(f, []) for v in [rnd.true(r)]]
    link = space.equal_other_accounts()
    return Block(
        [lit(r, v) for r, v in both] + [lit(link, want)],
        sound=False,
        why="principal and resource accounts",
    )


def realize(space: Space, model: z3.ModelRef, refs: Refs) -> Request | Block:
    rnd = Round(space, model)
    order = field_order(space)
    var_keys = _var_keys(space)
    var_fields = [f for f in order if f.endswith("#0") and f[:-2] in var_keys]
    rest = [f for f in order if f not in var_fields]
    failed = _solve_fields(rnd, var_fields, refs) or _solve_fields(rnd, rest, refs)
    if failed is not None and failed.why.endswith("policy variables"):
        free = [k for k in var_keys if not _determined(rnd, k, refs)]
        if not free:
            failed = Block(failed.literals, sound=True)
        elif len(free) == 1:
            for u in _variable_candidates(rnd, free[0], refs):
                rnd.values = {slot_field(free[0], 0): u}
                others = [f for f in var_fields if f != slot_field(free[0], 0)]
                again = _solve_fields(rnd, others, refs) or _solve_fields(rnd, rest, refs)
                if again is None:
                    failed = None
                    break
    if failed is None and space.linked:
        failed = _link_accounts(rnd, refs)
    if failed is not None:
        return failed
    context: dict[str, ContextValue] = {}
    for key, n in space.slots.items():
        if not rnd.true(space.present(key)):
            continue
        name = space.key_names.get(key, key)
        if rnd.true(space.is_list(key)):
            context[name] = [rnd.values[slot_field(key, i)] for i in range(n) if rnd.true(space.used(key, i))]
        else:
            context[name] = rnd.values.get(slot_field(key, 0), "")
    principal = rnd.values.get(PRINCIPAL) or None
    return Request(
        action=rnd.values[ACTION], resource=rnd.values[RESOURCE], principal=principal, context=context
    )
