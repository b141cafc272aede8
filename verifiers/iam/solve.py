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

import time
from dataclasses import dataclass
from typing import Literal

import z3

from policies.request import Request
from verifiers.iam.budget import BudgetExceededError
from verifiers.iam.budget import deadline as budget_deadline
from verifiers.iam.exclusive import exclusive
from verifiers.iam.globs import DEADLINE, Glob, pair_relation
from verifiers.iam.logic import any_of
from verifiers.iam.realize import realize
from verifiers.iam.space import Space
from verifiers.iam.witness import Refs

__all__ = ["DEFAULT_TIMEOUT_MS", "SolveResult", "Status", "solve"]

DEFAULT_TIMEOUT_MS = 10_000
Status = Literal["sat", "unsat", "unknown"]


@dataclass
class SolveResult:
    status: Status
    request: Request | None = None
    reason: str = ""
    rounds: int = 0
    seconds: float = 0.0


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


def _prefix_lemmas(field_name: str, static: list[tuple[z3.BoolRef, Glob]]) -> list[z3.BoolRef]:
    """Disjointness of many globs at once, through their literal prefixes: a trie of the prefixes, one
    Boolean per node that matters ("the value starts with this text"), each glob implying its node,
    each node its nearest such ancestor, and at each branching node at most one branch. Sound for every
    string, and linear in the prefixes' total length, where pairwise lemmas would be quadratic."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    ends: dict[str, list[z3.BoolRef]] = {}
    for ref, glob in static:
        prefix = glob.prefix()
        ends.setdefault(prefix, []).append(ref)
        node = root
        for c in prefix:
            node = node.setdefault(c, {})
    out: list[z3.BoolRef] = []
    counter = [0]

    def walk(node: dict, text: str, parent: z3.BoolRef | None) -> list[z3.BoolRef]:  # type: ignore[type-arg]
        """The node variables of the nearest nodes that matter at or below `node`."""
        here = parent
        if text in ends or len(node) > 1:
            counter[0] += 1
            here = z3.Bool(f"starts{counter[0]}[{field_name}~{text}]")
            if parent is not None:
                out.append(z3.Implies(here, parent))
            out.extend(z3.Implies(ref, here) for ref in ends.get(text, ()))
        branches = [walk(child, text + c, here) for c, child in node.items()]
        if len(branches) > 1:
            out.append(z3.AtMost(*[any_of(b) for b in branches], 1))
        return [here] if here is not None and here is not parent else [v for b in branches for v in b]

    walk(root, "", None)
    return out


def _lemmas(space: Space, refs: Refs, deadline: float, limit: int = 120) -> list[z3.BoolRef]:
    """Inclusion and disjointness of each field's static globs, decided once in Python."""
    out: list[z3.BoolRef] = []
    for field_name, items in refs.items():
        static = [(r, a.glob) for r, a in items if a.glob is not None]
        if len(static) > limit:
            out.extend(_prefix_lemmas(field_name, static))
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


@exclusive
def solve(
    space: Space, formula: z3.BoolRef, *, timeout_ms: int = DEFAULT_TIMEOUT_MS, max_rounds: int = 5_000
) -> SolveResult:
    """Find a concrete request satisfying `formula`, prove there is none, or say `unknown` (never a guess).

    `timeout_ms` bounds this query; an enclosing `time_budget` (the whole command's) bounds it too."""
    start = time.monotonic()
    deadline = start + timeout_ms / 1000
    command = budget_deadline()
    if command is not None and command < deadline:
        deadline, timeout_ms = command, max(0, int((command - start) * 1000))
    token = DEADLINE.set(deadline)
    try:
        return _solve(space, formula, start, deadline, timeout_ms, max_rounds)
    except BudgetExceededError as exc:
        return SolveResult("unknown", reason=str(exc), seconds=time.monotonic() - start)
    finally:
        DEADLINE.reset(token)


def _solve(
    space: Space, formula: z3.BoolRef, start: float, deadline: float, timeout_ms: int, max_rounds: int
) -> SolveResult:
    refs: Refs = {}
    for name, atom in space.atoms.items():
        refs.setdefault(atom.field, []).append((z3.Bool(name), atom))
    solver = z3.Solver()
    solver.add(formula, *space.axioms)
    if space.lemmas is None or space.lemmas[0] != len(space.atoms):
        space.lemmas = (len(space.atoms), _lemmas(space, refs, deadline))
    solver.add(*space.lemmas[1])
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
        built = realize(space, solver.model(), refs)
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
