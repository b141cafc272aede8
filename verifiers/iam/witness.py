"""One field of a symbolic request at a time: turn the pattern memberships a Z3 model demands into a
string (a witness), or into a block that says which memberships contradict each other.

A block is *sound* when the automata search proves that no string exists; otherwise (a budget ran out,
a policy variable's value was guessed) it is recorded as unverified, and the solver reports `unknown`
instead of `unsat`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import z3

from policies.catalog import load_catalog
from verifiers.iam.globs import (
    Glob,
    WitnessBudgetExceededError,
    find_witness,
    find_witnesses,
    glob_from_pieces,
    matches,
)
from verifiers.iam.semantics import value_glob
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Atom, Space, Template, field_slot, slot_field
from verifiers.iam.values import parse_date, parse_ip, parse_number

__all__ = [
    "DEFAULTS",
    "Block",
    "Literal_",
    "Refs",
    "Round",
    "field_order",
    "instantiate",
    "lit",
    "over_approximation",
    "pretty_action",
    "relevant",
    "solve_field",
    "typed_consistent",
]

DEFAULTS = {ACTION: "s3:GetObject", RESOURCE: "arn:aws:s3:::example-bucket/key"}
_EXAMPLES = {
    PRINCIPAL: ("arn:aws:iam::123456789012:user/example", "arn:aws:iam::210987654321:user/example"),
}
"""Readable values tried first for fields whose patterns leave them open."""
Literal_ = tuple[z3.BoolRef, Atom, bool]
Refs = dict[str, list[tuple[z3.BoolRef, Atom]]]


@dataclass
class Block:
    literals: list[z3.BoolRef]
    sound: bool
    why: str = ""


@dataclass
class Round:
    space: Space
    model: z3.ModelRef
    values: dict[str, str] = field(default_factory=dict)

    def true(self, ref: z3.ExprRef) -> bool:
        return bool(z3.is_true(self.model.eval(ref, model_completion=True)))

    def var_value(self, piece_key: str, default: str | None) -> str | None:
        key = piece_key.lower()
        if key in self.space.slots and self.true(self.space.present(key)):
            if self.true(self.space.is_list(key)):
                return None
            return self.values.get(slot_field(key, 0))
        return default

    def template_glob(self, template: Template) -> Glob:
        defaults = {p.text.lower(): p.default for p in template.pieces if p.kind == "var"}
        return value_glob(
            template.pieces,
            lambda p: self.var_value(p.text, defaults.get(p.text.lower())),
            wildcards=template.wildcards,
            ignore_case=template.ignore_case,
            arn=template.arn,
        )


def over_approximation(template: Template) -> Glob:
    # Any value of the variables: replace each by an unrestricted star (no ARN segment rules).
    parts = [
        ("*", True) if p.kind == "var" else (p.text, p.kind == "pattern" and template.wildcards)
        for p in template.pieces
    ]
    return glob_from_pieces(parts, ignore_case=template.ignore_case)


_ARN_FILL = {1: "aws", 2: "svc", 3: "us-east-1", 4: "123456789012"}


def instantiate(glob: Glob) -> str:
    """A readable member of a glob: each ARN segment's star gets a typical value, other stars "example"."""
    arn = glob.text.startswith("arn:")
    out: list[str] = []
    colons = 0
    for star, cs in glob.tokens:
        if star:
            out.append(_ARN_FILL.get(colons, "example") if arn else "example")
        elif cs.negated:
            out.append("x")
        else:
            c = min(cs.chars, key=lambda ch: (not ch.islower(), ch))
            out.append(c)
            colons += c == ":"
    return "".join(out)


def _empty(pos: list[Glob], neg: list[Glob]) -> bool:
    return find_witness(pos, neg, budget=20_000) is None


def _minimal_core(lits: list[tuple[z3.BoolRef, Glob, bool]]) -> list[tuple[z3.BoolRef, Glob, bool]]:
    """A small contradictory subset: the positives with at most one negative when that suffices,
    else deletion-based minimization (only for small sets; a larger block is still sound)."""
    positives = [x for x in lits if x[2]]
    try:
        if _empty([g for _, g, _ in positives], []):
            candidates = positives
        else:
            single = next(
                (n for n in lits if not n[2] and _empty([g for _, g, _ in positives], [n[1]])), None
            )
            candidates = [*positives, single] if single else lits
        if len(candidates) > 60:
            return candidates
        core = list(candidates)
        for item in list(core):
            trial = [x for x in core if x is not item]
            if _empty([g for _, g, v in trial if v], [g for _, g, v in trial if not v]):
                core = trial
        return core
    except WitnessBudgetExceededError:
        return lits


def _prune(pos: list[Glob], neg: list[Glob]) -> list[Glob]:
    """Drop negatives whose literal prefix already rules out every match of some positive."""
    prefixes = [p.prefix() for p in pos]
    return [n for n in neg if all(a.startswith(b) or b.startswith(a) for a in prefixes for b in [n.prefix()])]


def lit(ref: z3.BoolRef, value: bool) -> z3.BoolRef:
    return ref if value else z3.Not(ref)


def _typed_value(rnd: Round, fld: str) -> str | bool | None:
    """A typed rendering (number, date, IP) the model demands for a context slot; False when none."""
    space = rnd.space
    key, i = field_slot(fld)
    fams = space.families.get(key, set())
    if fams & {"Numeric", "Date"} and rnd.true(space.date_ok(key, i)):
        value = rnd.model.eval(space.real(key, i), model_completion=True)
        frac = Fraction(value.as_fraction()) if z3.is_rational_value(value) else None
        if frac is None:
            return None
        if not rnd.true(space.num_ok(key, i)):
            from datetime import UTC, datetime

            try:
                return datetime.fromtimestamp(int(frac), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            except (OverflowError, ValueError, OSError):
                return None
        if frac.denominator == 1:
            return str(frac.numerator)
        den = frac.denominator
        while den % 2 == 0:
            den //= 2
        while den % 5 == 0:
            den //= 5
        return f"{float(frac)!r}" if den == 1 else None
    if "IpAddress" in fams and rnd.true(space.ip_ok(key, i)):
        import ipaddress

        raw = rnd.model.eval(space.ip(key, i), model_completion=True).as_long()
        if rnd.true(space.ip6(key, i)):
            return str(ipaddress.IPv6Address(raw))
        return str(ipaddress.IPv4Address(raw & 0xFFFFFFFF))
    return False


def typed_consistent(rnd: Round, fld: str, text: str) -> bool:
    """The string parses exactly as the model's type flags say (a value is, or is not, a number...)."""
    space = rnd.space
    if fld in (ACTION, RESOURCE, PRINCIPAL):
        return True
    key, i = field_slot(fld)
    fams = space.families.get(key, set())
    checks = []
    if "Numeric" in fams:
        checks.append((parse_number(text) is not None, space.num_ok(key, i)))
    if "Date" in fams or "Numeric" in fams:
        checks.append((parse_date(text) is not None, space.date_ok(key, i)))
    if "IpAddress" in fams:
        checks.append((parse_ip(text) is not None, space.ip_ok(key, i)))
    return all(actual == rnd.true(flag) for actual, flag in checks)


def _same_typed_value(rnd: Round, fld: str, text: str) -> bool:
    space = rnd.space
    key, i = field_slot(fld)
    fams = space.families.get(key, set())
    if fams & {"Numeric", "Date"} and rnd.true(space.date_ok(key, i)):
        value = rnd.model.eval(space.real(key, i), model_completion=True)
        if not z3.is_rational_value(value) or parse_date(text) != Fraction(value.as_fraction()):
            return False
    if "IpAddress" in fams and rnd.true(space.ip_ok(key, i)):
        ip = parse_ip(text)
        raw = rnd.model.eval(space.ip(key, i), model_completion=True).as_long()
        if ip is None or int(ip) != raw or (ip.version == 6) != rnd.true(space.ip6(key, i)):
            return False
    return True


def field_order(space: Space) -> list[str]:
    fields = set(space.string_fields()) | {ACTION, RESOURCE}
    for key, n in space.slots.items():
        fields.update(slot_field(key, i) for i in range(n))
    var_keys = {k for a in space.atoms.values() if a.template for k in a.template.var_keys}
    first = sorted(f for f in fields if "#" in f and f.rsplit("#", 1)[0] in var_keys and f.endswith("#0"))
    return first + sorted(fields - set(first))


def relevant(rnd: Round, fld: str) -> bool:
    if fld in (ACTION, RESOURCE, PRINCIPAL):
        return True
    key, i = field_slot(fld)
    return rnd.true(rnd.space.present(key)) and rnd.true(rnd.space.used(key, i))


_FILL = {"${Partition}": "aws", "${Region}": "us-east-1", "${Account}": "123456789012"}


def _resources_of(action: str) -> list[str]:
    """ARNs of the resource types the action acts on, placeholders filled: readable resources for it
    (the action is realized first: fields go in name order)."""
    out = []
    for arn_format in sorted(load_catalog().resource_formats(action).values(), key=len):
        text = arn_format
        for name, value in _FILL.items():
            text = text.replace(name, value)
        out.append(re.sub(r"\$\{[^}]*\}", "example", text))
    return out


def pretty_action(pos: list[Glob], neg: list[Glob]) -> str | None:
    catalog = load_catalog()
    service = pos[0].text.split(":", 1)[0] if pos and ":" in pos[0].text else ""
    pool = (
        [f"{service}:{a}" for a in catalog.services[service]["a"]]
        if catalog.has_service(service) and "*" not in service
        else catalog.all_actions
    )
    for name in pool:
        low = name.lower()
        if all(matches(g, low) for g in pos) and not any(matches(g, low) for g in neg):
            return name
    return None


def solve_field(rnd: Round, fld: str, lits: list[Literal_]) -> str | Block:
    static = [(ref, a.glob, v) for ref, a, v in lits if a.glob is not None]
    templated = [(ref, a.template, v) for ref, a, v in lits if a.template is not None]
    pos = [g for _, g, v in static if v]
    neg = [g for _, g, v in static if not v]
    for _ref, t, v in templated:
        assert t is not None
        (pos if v else neg).append(rnd.template_glob(t))
    typed = _typed_value(rnd, fld) if "#" in fld else False
    try:
        if typed is None:
            return Block(
                [lit(r, v) for r, _, v in lits],
                sound=False,
                why=f"no exact rendering of the number in {fld}",
            )
        if isinstance(typed, str):
            if all(matches(g, typed) for g in pos) and not any(matches(g, typed) for g in neg):
                return typed
            # Another spelling of the same value may fit the patterns ("10.0" for 10).
            spellings = [*map(instantiate, pos), *find_witnesses(pos, neg, limit=8)]
            for text in spellings:
                fits = all(matches(g, text) for g in pos) and not any(matches(g, text) for g in neg)
                if fits and typed_consistent(rnd, fld, text) and _same_typed_value(rnd, fld, text):
                    return text
            return Block(
                [lit(r, v) for r, _, v in lits], sound=False, why=f"typed value of {fld} vs its patterns"
            )
        neg = _prune(pos, neg)
        found = sorted(find_witnesses(pos, neg, limit=8), key=lambda t: t == "")
        specific = [instantiate(g) for g in pos if g.prefix()]
        readable: list[str] = [
            *rnd.space.hints.get(fld, ()),
            *([""] if fld == PRINCIPAL else []),  # no principal, when the policies allow it: the plainest
            *specific,
            *(_resources_of(rnd.values[ACTION]) if fld == RESOURCE and ACTION in rnd.values else ()),
            *_EXAMPLES.get(fld, ()),
            *map(instantiate, pos),
            "example",
        ]
        for text in [*readable, *found]:
            if not (all(matches(g, text) for g in pos) and not any(matches(g, text) for g in neg)):
                continue
            if typed_consistent(rnd, fld, text):
                return text
        if found:
            return Block([lit(r, v) for r, _, v in lits], sound=False, why=f"{fld}: string vs type flags")
        if templated:
            over_pos = [g for _, g, v in static if v] + [
                over_approximation(t) for _, t, v in templated if v and t
            ]
            # Only the static negatives: a templated one depends on the variable values tried this round
            # (`neg` was pruned and holds the templated globs too, so it cannot be sliced).
            if find_witness(over_pos, [g for _, g, v in static if not v]) is None:
                core = [lit(r, v) for r, _, v in static] + [lit(r, v) for r, _, v in templated if v]
                return Block(core, sound=True)
            var_lits = [lit(r, v) for r, a, v in _all_var_literals(rnd, templated)]
            return Block(
                [lit(r, v) for r, _, v in lits] + var_lits, sound=False, why=f"{fld}: policy variables"
            )
        core = _minimal_core(static)
        return Block([lit(r, v) for r, _, v in core], sound=True)
    except WitnessBudgetExceededError as exc:
        return Block([lit(r, v) for r, _, v in lits], sound=False, why=str(exc))


def _all_var_literals(
    rnd: Round, templated: Sequence[tuple[z3.BoolRef, Template | None, bool]]
) -> list[Literal_]:
    keys = {k for _, t, _ in templated if t for k in t.var_keys}
    out: list[Literal_] = []
    for name, atom in rnd.space.atoms.items():
        if atom.field in {slot_field(k, 0) for k in keys}:
            ref = z3.Bool(name)
            out.append((ref, atom, rnd.true(ref)))
    for k in keys:
        if k in rnd.space.slots:
            for ref in (rnd.space.present(k), rnd.space.is_list(k)):
                out.append((ref, Atom(""), rnd.true(ref)))
    return out
