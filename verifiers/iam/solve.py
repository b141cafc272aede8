"""The lazy loop: Z3 proposes a combination of pattern memberships, Python finds witness strings.

Each round, Z3 gives a model of the formula over Booleans, reals and bit-vectors. For every string field
the model says which globs the value must match and which it must not; a breadth-first search over the
globs' automata (`verifiers.iam.globs`) finds a string, or proves there is none. When one exists for
every field, the model becomes a concrete `Request`. When one field has none, a minimal set of its
memberships that is already contradictory is blocked and Z3 is asked again.

Blocking is sound when the search proves emptiness. When it cannot (a search budget ran out, or a
pattern with policy variables has no witness for the variable values tried), the block is recorded as
unverified, and an eventual `unsat` is reported as `unknown`: it is never reported as proven.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import z3

from policies.catalog import load_catalog
from policies.request import ContextValue, Request
from verifiers.iam.globs import (
    DEADLINE,
    Glob,
    WitnessBudgetExceededError,
    find_witness,
    find_witnesses,
    glob_from_pieces,
    matches,
    pair_relation,
)
from verifiers.iam.semantics import value_glob
from verifiers.iam.space import ACTION, PRINCIPAL, RESOURCE, Atom, Space, Template, slot_field
from verifiers.iam.values import parse_date, parse_ip, parse_number

__all__ = ["DEFAULT_TIMEOUT_MS", "SolveResult", "Status", "solve"]

DEFAULT_TIMEOUT_MS = 10_000
Status = Literal["sat", "unsat", "unknown"]
_DEFAULTS = {ACTION: "s3:GetObject", RESOURCE: "arn:aws:s3:::example-bucket/key"}
_EXAMPLES = {
    RESOURCE: ("arn:aws:s3:::example-bucket/key", "arn:aws:ec2:us-east-1:123456789012:instance/i-0example"),
    PRINCIPAL: ("arn:aws:iam::123456789012:user/example", "arn:aws:iam::210987654321:user/example"),
}
"""Readable values tried first for fields whose patterns leave them open."""
Literal_ = tuple[z3.BoolRef, Atom, bool]
_Refs = dict[str, list[tuple[z3.BoolRef, Atom]]]


@dataclass
class SolveResult:
    status: Status
    request: Request | None = None
    reason: str = ""
    rounds: int = 0
    seconds: float = 0.0


@dataclass
class _Block:
    literals: list[z3.BoolRef]
    sound: bool
    why: str = ""


@dataclass
class _Round:
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


def _over_approximation(template: Template) -> Glob:
    # Any value of the variables: replace each by an unrestricted star (no ARN segment rules).
    parts = [
        ("*", True) if p.kind == "var" else (p.text, p.kind == "pattern" and template.wildcards)
        for p in template.pieces
    ]
    return glob_from_pieces(parts, ignore_case=template.ignore_case)


_ARN_FILL = {1: "aws", 2: "svc", 3: "us-east-1", 4: "123456789012"}


_ARN_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def _catalog_arn(action: str) -> str | None:
    """An ARN of the first resource type the action takes (from the catalog), with typical values."""
    info = load_catalog().action_info(action) if action else None
    if not info or not info[2]:
        return None
    template = load_catalog().resource_arns(action.split(":", 1)[0]).get(info[2][0])
    if template is None:
        return None
    fills = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}
    return _ARN_PLACEHOLDER.sub(lambda m: fills.get(m.group(1), "example"), template)


def _instantiate(glob: Glob) -> str:
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


def _lit(ref: z3.BoolRef, value: bool) -> z3.BoolRef:
    return ref if value else z3.Not(ref)


def _typed_value(rnd: _Round, fld: str) -> str | bool | None:
    """A typed rendering (number, date, IP) the model demands for a context slot; False when none."""
    space = rnd.space
    key, slot = fld.rsplit("#", 1)
    i = int(slot)
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


def _typed_consistent(rnd: _Round, fld: str, text: str) -> bool:
    """The string parses exactly as the model's type flags say (a value is, or is not, a number...)."""
    space = rnd.space
    if fld in (ACTION, RESOURCE, PRINCIPAL):
        return True
    key, slot = fld.rsplit("#", 1)
    i = int(slot)
    fams = space.families.get(key, set())
    checks = []
    if "Numeric" in fams:
        checks.append((parse_number(text) is not None, space.num_ok(key, i)))
    if "Date" in fams or "Numeric" in fams:
        checks.append((parse_date(text) is not None, space.date_ok(key, i)))
    if "IpAddress" in fams:
        checks.append((parse_ip(text) is not None, space.ip_ok(key, i)))
    return all(actual == rnd.true(flag) for actual, flag in checks)


def _same_typed_value(rnd: _Round, fld: str, text: str) -> bool:
    space = rnd.space
    key, slot = fld.rsplit("#", 1)
    i = int(slot)
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


def _field_order(space: Space) -> list[str]:
    fields = set(space.string_fields()) | {ACTION, RESOURCE}
    for key, n in space.slots.items():
        fields.update(slot_field(key, i) for i in range(n))
    var_keys = {k for a in space.atoms.values() if a.template for k in a.template.var_keys}
    first = sorted(f for f in fields if "#" in f and f.rsplit("#", 1)[0] in var_keys and f.endswith("#0"))
    return first + sorted(fields - set(first))


def _relevant(rnd: _Round, fld: str) -> bool:
    if fld in (ACTION, RESOURCE, PRINCIPAL):
        return True
    key, slot = fld.rsplit("#", 1)
    return rnd.true(rnd.space.present(key)) and rnd.true(rnd.space.used(key, int(slot)))


def _pretty_action(pos: list[Glob], neg: list[Glob]) -> str | None:
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


def _solve_field(rnd: _Round, fld: str, lits: list[Literal_]) -> str | _Block:
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
            return _Block(
                [_lit(r, v) for r, _, v in lits],
                sound=False,
                why=f"no exact rendering of the number in {fld}",
            )
        if isinstance(typed, str):
            if all(matches(g, typed) for g in pos) and not any(matches(g, typed) for g in neg):
                return typed
            # Another spelling of the same value may fit the patterns ("10.0" for 10).
            spellings = [*map(_instantiate, pos), *find_witnesses(pos, neg, limit=8)]
            for text in spellings:
                fits = all(matches(g, text) for g in pos) and not any(matches(g, text) for g in neg)
                if fits and _typed_consistent(rnd, fld, text) and _same_typed_value(rnd, fld, text):
                    return text
            return _Block(
                [_lit(r, v) for r, _, v in lits], sound=False, why=f"typed value of {fld} vs its patterns"
            )
        neg = _prune(pos, neg)
        found = sorted(find_witnesses(pos, neg, limit=8), key=lambda t: t == "")
        specific = [_instantiate(g) for g in pos if g.prefix()]
        typical = _catalog_arn(rnd.values.get(ACTION, "")) if fld == RESOURCE else None
        readable: list[str] = [
            *specific,
            *([typical] if typical else []),
            *_EXAMPLES.get(fld, ()),
            *map(_instantiate, pos),
            "example",
        ]
        for text in [*readable, *found]:
            if not (all(matches(g, text) for g in pos) and not any(matches(g, text) for g in neg)):
                continue
            if _typed_consistent(rnd, fld, text):
                return text
        if found:
            return _Block([_lit(r, v) for r, _, v in lits], sound=False, why=f"{fld}: string vs type flags")
        if templated:
            over_pos = [g for _, g, v in static if v] + [
                _over_approximation(t) for _, t, v in templated if v and t
            ]
            if find_witness(over_pos, neg[: len([1 for _, _, v in static if not v])]) is None:
                core = [_lit(r, v) for r, _, v in static] + [_lit(r, v) for r, _, v in templated if v]
                return _Block(core, sound=True)
            var_lits = [_lit(r, v) for r, a, v in _all_var_literals(rnd, templated)]
            return _Block(
                [_lit(r, v) for r, _, v in lits] + var_lits, sound=False, why=f"{fld}: policy variables"
            )
        core = _minimal_core(static)
        return _Block([_lit(r, v) for r, _, v in core], sound=True)
    except WitnessBudgetExceededError as exc:
        return _Block([_lit(r, v) for r, _, v in lits], sound=False, why=str(exc))


def _all_var_literals(
    rnd: _Round, templated: Sequence[tuple[z3.BoolRef, Template | None, bool]]
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


def _solve_fields(rnd: _Round, fields: list[str], refs: _Refs) -> _Block | None:
    for fld in fields:
        if not _relevant(rnd, fld):
            continue
        lits = [(ref, atom, rnd.true(ref)) for ref, atom in refs.get(fld, [])]
        if not lits and fld in _DEFAULTS:
            rnd.values[fld] = _DEFAULTS[fld]
            continue
        got = _solve_field(rnd, fld, lits)
        if isinstance(got, _Block):
            return got
        if fld == ACTION:
            pretty = _pretty_action(
                [a.glob for _, a, v in lits if v and a.glob], [a.glob for _, a, v in lits if not v and a.glob]
            )
            got = pretty or got
        rnd.values[fld] = got
    return None


def _template_regex(template: Template) -> re.Pattern[str]:
    parts = []
    for piece in template.pieces:
        if piece.kind == "var":
            parts.append("(.*?)")
        elif piece.kind == "pattern" and template.wildcards:
            parts.append("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in piece.text))
        else:
            parts.append(re.escape(piece.text))
    flags = re.DOTALL | (re.IGNORECASE if template.ignore_case else 0)
    return re.compile("".join(parts), flags)


def _variable_candidates(rnd: _Round, key: str, refs: _Refs) -> list[str]:
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
            over = [*static_pos, *(_over_approximation(t) for t in templates)]
            texts += find_witnesses(over, static_neg, limit=4) + [_instantiate(g) for g in over]
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
        and _typed_consistent(rnd, fld, u)
    ]


def _determined(rnd: _Round, key: str, refs: _Refs) -> bool:
    """The model fixes this variable's value: absent (its default applies) or pinned to one literal."""
    if key not in rnd.space.slots or not rnd.true(rnd.space.present(key)):
        return True
    return any(
        a.glob is not None and a.glob.literal() is not None and rnd.true(r)
        for r, a in refs.get(slot_field(key, 0), [])
    )


def _var_keys(space: Space) -> list[str]:
    return sorted({k for a in space.atoms.values() if a.template for k in a.template.var_keys})


def _build(space: Space, model: z3.ModelRef, refs: _Refs) -> Request | _Block:
    rnd = _Round(space, model)
    order = _field_order(space)
    var_keys = _var_keys(space)
    var_fields = [f for f in order if f.endswith("#0") and f[:-2] in var_keys]
    rest = [f for f in order if f not in var_fields]
    failed = _solve_fields(rnd, var_fields, refs) or _solve_fields(rnd, rest, refs)
    if failed is not None and failed.why.endswith("policy variables"):
        free = [k for k in var_keys if not _determined(rnd, k, refs)]
        if not free:
            failed = _Block(failed.literals, sound=True)
        elif len(free) == 1:
            for u in _variable_candidates(rnd, free[0], refs):
                rnd.values = {slot_field(free[0], 0): u}
                others = [f for f in var_fields if f != slot_field(free[0], 0)]
                again = _solve_fields(rnd, others, refs) or _solve_fields(rnd, rest, refs)
                if again is None:
                    failed = None
                    break
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


def _pairs(static: list[tuple[z3.BoolRef, Glob]], limit: int) -> list[tuple[int, int]]:
    """Which pairs of a field's globs to relate: all of them when few; else each glob against the few
    most general ones (shortest literal prefix), where most of the useful inclusions are."""
    n = len(static)
    if n <= limit:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    prefixes = [g.prefix() for _, g in static]
    hubs = sorted(range(n), key=lambda i: len(prefixes[i]))[:16]
    out: list[tuple[int, int]] = []
    for h in hubs:
        ph = prefixes[h]
        out.extend(
            (h, i) for i in range(n) if i != h and (prefixes[i].startswith(ph) or ph.startswith(prefixes[i]))
        )
    return out


def _lemmas(space: Space, refs: _Refs, deadline: float, limit: int = 120) -> list[z3.BoolRef]:
    """Inclusion and disjointness of each field's static globs, decided once in Python."""
    out: list[z3.BoolRef] = []
    for items in refs.values():
        static = [(r, a.glob) for r, a in items if a.glob is not None]
        for i, j in _pairs(static, limit):
            if time.monotonic() > deadline:
                return out
            (ra, ga), (rb, gb) = static[i], static[j]
            relation = pair_relation(ga, gb)
            if relation is None:
                continue
            apart, a_in_b, b_in_a = relation
            if apart:
                out.append(z3.Not(z3.And(ra, rb)))
            if a_in_b:
                out.append(z3.Implies(ra, rb))
            if b_in_a:
                out.append(z3.Implies(rb, ra))
    return out


def _preferences(space: Space) -> list[z3.BoolRef]:
    """Soft wishes for readable requests: single-valued keys, values of the operator's type."""
    out: list[z3.BoolRef] = []
    for key, n in space.slots.items():
        out.append(z3.Not(space.is_list(key)))
        fams = space.families.get(key, set())
        for i in range(n):
            if "IpAddress" in fams:
                out.append(space.ip_ok(key, i))
            if "Numeric" in fams:
                out.append(space.num_ok(key, i))
            elif "Date" in fams:
                out.append(space.date_ok(key, i))
    return out


def solve(
    space: Space, formula: z3.BoolRef, *, timeout_ms: int = DEFAULT_TIMEOUT_MS, max_rounds: int = 5_000
) -> SolveResult:
    """Find a concrete request satisfying `formula`, prove there is none, or say `unknown` (never a guess)."""
    start = time.monotonic()
    deadline = start + timeout_ms / 1000
    token = DEADLINE.set(deadline)
    try:
        return _solve(space, formula, start, deadline, timeout_ms, max_rounds)
    finally:
        DEADLINE.reset(token)


def _solve(
    space: Space, formula: z3.BoolRef, start: float, deadline: float, timeout_ms: int, max_rounds: int
) -> SolveResult:
    refs: _Refs = {}
    for name, atom in space.atoms.items():
        refs.setdefault(atom.field, []).append((z3.Bool(name), atom))
    solver = z3.Solver()
    solver.add(formula, *space.axioms)
    solver.add(*_lemmas(space, refs, deadline))
    unverified = ""
    for rounds in range(1, max_rounds + 1):
        remaining = int((deadline - time.monotonic()) * 1000)
        if remaining <= 0:
            return SolveResult(
                "unknown",
                reason=f"timed out after {timeout_ms} ms",
                rounds=rounds,
                seconds=time.monotonic() - start,
            )
        solver.set("timeout", remaining)
        # Prefer single-valued context keys (readable counterexamples); fall back to any request.
        singles = _preferences(space)
        answer = solver.check(*singles) if singles else solver.check()
        if singles and answer == z3.unsat:
            answer = solver.check()
        if answer == z3.unsat:
            status: Status = "unknown" if unverified else "unsat"
            return SolveResult(status, reason=unverified, rounds=rounds, seconds=time.monotonic() - start)
        if answer != z3.sat:
            return SolveResult(
                "unknown",
                reason=f"z3: {solver.reason_unknown()}",
                rounds=rounds,
                seconds=time.monotonic() - start,
            )
        built = _build(space, solver.model(), refs)
        if isinstance(built, Request):
            return SolveResult("sat", request=built, rounds=rounds, seconds=time.monotonic() - start)
        if not built.sound:
            unverified = unverified or f"unverified region: {built.why}"
        solver.add(z3.Not(z3.And(*built.literals)) if built.literals else z3.BoolVal(False))
    return SolveResult(
        "unknown",
        reason=f"no answer in {max_rounds} rounds",
        rounds=max_rounds,
        seconds=time.monotonic() - start,
    )
