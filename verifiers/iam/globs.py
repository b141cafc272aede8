"""IAM wildcard patterns as small automata: matching, and deciding inclusion, disjointness and witnesses.

A `Glob` is a sequence of tokens, each one character from a `CharSet` or a star (any number of them).
`*` and `?` in policy text become tokens over any character, except inside the first five segments of an
ARN pattern, where they stop at `:` (AWS matches each ARN segment separately; the resource segment, and a
trailing `*` of a shorter ARN, may span colons). Substituted policy-variable values and `${*}` escapes are
literal characters. Case-insensitive matching (actions, `StringEqualsIgnoreCase`) makes each literal a
two-character set.

The symbolic engine gives Z3 only one Boolean per (field, pattern) and decides here, in Python, whether a
combination of pattern memberships has a real witness string: a breadth-first search over the product of
the patterns' subset automata, bounded by a state budget so that no pattern can hang a query.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, cached_property

__all__ = [
    "ANY",
    "ARN_SHAPE",
    "DEADLINE",
    "NEVER",
    "CharSet",
    "Glob",
    "WitnessBudgetExceededError",
    "disjoint",
    "find_witness",
    "find_witnesses",
    "glob_from_pieces",
    "included",
    "literal_glob",
    "matches",
    "pair_relation",
    "pattern_glob",
]


@dataclass(frozen=True)
class CharSet:
    chars: frozenset[str]
    negated: bool = False

    def __contains__(self, c: str) -> bool:
        return (c in self.chars) != self.negated


ANY = CharSet(frozenset(), True)
_NO_COLON = CharSet(frozenset(":"), True)
Token = tuple[bool, CharSet]
"""(is_star, charset)."""


@dataclass(frozen=True, eq=True)
class Glob:
    tokens: tuple[Token, ...]
    text: str = ""
    never: bool = False
    """True for a pattern that matches nothing (an invalid ARN pattern, an unresolvable variable)."""

    def __str__(self) -> str:
        return self.text

    def __hash__(self) -> int:  # globs key many caches and atom tables: hash the tokens once
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash((self.tokens, self.text, self.never))

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        """The compiled linear-time matcher, or None when only the automaton is exact (kept on the glob:
        hashing a glob for a cache lookup costs more)."""
        return _regex(self)

    def prefix(self) -> str:
        """The literal text every match starts with."""
        out = []
        for star, cs in self.tokens:
            if star or cs.negated or len(cs.chars) != 1:
                break
            out.append(next(iter(cs.chars)))
        return "".join(out)

    def literal(self) -> str | None:
        """The one string this glob matches, when it has no wildcard and no case folding."""
        if self.never or any(star or cs.negated or len(cs.chars) != 1 for star, cs in self.tokens):
            return None
        return "".join(next(iter(cs.chars)) for _, cs in self.tokens)


NEVER = Glob((), "<matches nothing>", never=True)


DEADLINE: ContextVar[float | None] = ContextVar("glob_search_deadline", default=None)
"""A `time.monotonic()` instant after which witness searches give up (set by the solver per query)."""


class WitnessBudgetExceededError(RuntimeError):
    """The search for a witness string ran past its state budget; the question stays undecided."""


@cache
def _literal(c: str, ignore_case: bool) -> CharSet:
    return CharSet(frozenset({c, c.lower(), c.upper()}) if ignore_case else frozenset(c))


def glob_from_pieces(
    pieces: Sequence[tuple[str, bool]], *, ignore_case: bool = False, arn: bool = False
) -> Glob:
    """Build a glob from (text, wildcards_active) pieces; `arn` applies ARN segment rules when it starts with `arn:`."""
    chars = [(c, active) for text, active in pieces for c in text]
    text = "".join(c for c, _ in chars)
    display = "".join(t if a else t.replace("*", "${*}").replace("?", "${?}") for t, a in pieces)
    segmented = arn and text.startswith("arn:")
    colons = text.count(":")
    if segmented and colons < 5 and not (chars and chars[-1] == ("*", True)):
        return Glob((), display, never=True)
    tokens: list[Token] = []
    seen_colons = 0
    for i, (c, active) in enumerate(chars):
        wildcard = CharSet(ANY.chars, True)
        if segmented and seen_colons < 5 and not (colons < 5 and i == len(chars) - 1):
            wildcard = _NO_COLON
        if active and c == "*":
            if not (tokens and tokens[-1] == (True, wildcard)):  # `**` is `*`
                tokens.append((True, wildcard))
        elif active and c == "?":
            tokens.append((False, wildcard))
        else:
            tokens.append((False, _literal(c, ignore_case)))
        if c == ":":
            seen_colons += 1
    return Glob(tuple(tokens), display)


def pattern_glob(text: str, *, ignore_case: bool = False, arn: bool = False) -> Glob:
    return glob_from_pieces([(text, True)], ignore_case=ignore_case, arn=arn)


def literal_glob(text: str, *, ignore_case: bool = False) -> Glob:
    return glob_from_pieces([(text, False)], ignore_case=ignore_case)


ARN_SHAPE = pattern_glob("arn:*:*:*:*:*", arn=True)
"""What ARN condition operators require of a request value: six colon-separated parts."""


def _charset_regex(cs: CharSet) -> str:
    if cs.negated and not cs.chars:
        return "."
    body = "".join(re.escape(c) if c not in "]^-\\" else "\\" + c for c in sorted(cs.chars))
    if not cs.negated and len(cs.chars) == 1:
        return re.escape(next(iter(cs.chars)))
    return f"[{'^' if cs.negated else ''}{body}]"


def _segments(glob: Glob) -> tuple[list[list[CharSet]], list[CharSet]] | None:
    """The glob as literal segments between stars (`S0 *1 S1 ... *k Sk`), adjacent stars merged; None
    when two adjacent stars cannot be merged into one."""
    segments: list[list[CharSet]] = [[]]
    stars: list[CharSet] = []
    for star, cs in glob.tokens:
        if not star:
            segments[-1].append(cs)
        elif stars and not segments[-1]:  # `X*Y*` is the wider of the two when one contains the other
            if cs == ANY or stars[-1] == ANY:
                stars[-1] = ANY
            elif cs != stars[-1]:
                return None
        else:
            stars.append(cs)
            segments.append([])
    return segments, stars


def _can_match(token: CharSet, chars: frozenset[str]) -> bool:
    return any(c in token for c in chars) if not token.negated else not chars <= token.chars


def _leftmost_is_exact(star: CharSet, segment: list[CharSet]) -> bool:
    """Taking the leftmost occurrence of `segment` after this star never loses a match.

    True for an unrestricted star (the classic wildcard argument: a later occurrence leaves less room
    for the rest). For a star over "anything but E" (`[^:]*` in the first ARN segments) it holds when
    the segment cannot match a character of E before a token that is exactly such a character: the
    star cannot cross an E character, so either that token pins the occurrence to the next one, or the
    occurrence lies inside an E-free stretch, where the star behaves as an unrestricted one."""
    if star == ANY:
        return True
    if not star.negated:
        return False
    for token in segment:
        if _can_match(token, star.chars):
            return not token.negated and token.chars <= star.chars
    return True


def _regex(glob: Glob) -> re.Pattern[str] | None:
    """A regex that matches in time linear in the value (times the pattern), or None when the glob needs
    the automaton. Every star but the last becomes an atomic lazy group, `(?>.*?SEGMENT)`: it takes the
    leftmost occurrence of the next segment and never backtracks into it, so `*a*a*a*b` cannot make the
    engine retry every way of splitting the value. The last star stays greedy before the final segment."""
    shape = _segments(glob)
    if shape is None:
        return None
    segments, stars = shape
    if not all(_leftmost_is_exact(star, seg) for star, seg in zip(stars[:-1], segments[1:-1], strict=True)):
        return None
    text = "".join(map(_charset_regex, segments[0]))
    for star, seg in zip(stars[:-1], segments[1:-1], strict=True):
        text += f"(?>{_charset_regex(star)}*?{''.join(map(_charset_regex, seg))})"
    if stars:
        text += _charset_regex(stars[-1]) + "*" + "".join(map(_charset_regex, segments[-1]))
    return re.compile(text, re.DOTALL)


def _automaton_matches(glob: Glob, value: str) -> bool:
    """The glob's automaton run over the value, all positions at once as the bits of one integer:
    O(len(value)) big-integer steps."""
    tokens = glob.tokens
    stars = sum(1 << i for i, (star, _) in enumerate(tokens) if star)

    def closure(state: int) -> int:
        while True:  # a star may match nothing: from it, the next token is reachable too
            grown = state | ((state & stars) << 1)
            if grown == state:
                return state
            state = grown

    masks: dict[str, tuple[int, int]] = {}
    state = closure(1)
    for c in value:
        if c not in masks:
            hits = [i for i, (_, cs) in enumerate(tokens) if c in cs]
            masks[c] = (
                sum(1 << i for i in hits if not tokens[i][0]),
                sum(1 << i for i in hits if tokens[i][0]),
            )
        advance, stay = masks[c]
        state = closure(((state & advance) << 1) | (state & stay))
        if not state:
            return False
    return bool(state >> len(tokens) & 1)


def matches(glob: Glob, value: str) -> bool:
    """Whether the value matches the glob, in time linear in the value's length (no backtracking)."""
    if glob.never:
        return False
    regex = glob.regex
    if regex is None:
        return _automaton_matches(glob, value)
    return regex.fullmatch(value) is not None


# --- automata -------------------------------------------------------------------------------------


def _closure(glob: Glob, positions: Iterable[int]) -> frozenset[int]:
    out = set()
    for p in positions:
        while True:
            out.add(p)
            if p < len(glob.tokens) and glob.tokens[p][0]:
                p += 1
            else:
                break
    return frozenset(out)


def _step(glob: Glob, state: frozenset[int], c: str) -> frozenset[int]:
    nxt = []
    for p in state:
        if p < len(glob.tokens):
            star, cs = glob.tokens[p]
            if c in cs:
                nxt.append(p if star else p + 1)
    return _closure(glob, nxt) if nxt else frozenset()


def _alphabet(globs: Sequence[Glob]) -> list[str]:
    mentioned = {c for g in globs for _, cs in g.tokens for c in cs.chars}
    other = next((c for c in "xyzqwabc0123456789-_" if c not in mentioned), "\u2603")
    return [other, *sorted(mentioned - {other})]


def find_witnesses(
    pos: Sequence[Glob], neg: Sequence[Glob], *, limit: int = 1, budget: int = 50_000
) -> list[str]:
    """Up to `limit` strings matching every glob in `pos` and none in `neg`, shortest first.

    An empty list proves that no such string exists. Raises `WitnessBudgetExceededError` after `budget`
    states or past the query's `DEADLINE`. Many negatives are added lazily: search with the ones that
    a candidate violates, until a candidate violates none (an empty answer with fewer negatives is an
    empty answer with all of them).
    """
    if any(g.never for g in pos):
        return []
    neg = [g for g in neg if not g.never]
    if len(neg) <= 8:
        return _search(pos, neg, limit, budget)
    active: list[Glob] = []
    while True:
        found = _search(pos, active, max(limit, 4), budget)
        good = [w for w in found if not any(matches(g, w) for g in neg)]
        if good or not found:
            return good[:limit]
        violated = [g for g in neg if g not in active and matches(g, found[0])]
        active.extend(violated)


def _search(pos: Sequence[Glob], neg: Sequence[Glob], limit: int, budget: int) -> list[str]:
    globs = [*pos, *neg]
    npos = len(pos)
    alphabet = _alphabet(globs)
    start = tuple(_closure(g, [0]) for g in globs)
    ends = [len(g.tokens) for g in globs]
    deadline = DEADLINE.get()

    def accepting(state: tuple[frozenset[int], ...]) -> bool:
        return all(ends[i] in state[i] for i in range(npos)) and not any(
            ends[i] in state[i] for i in range(npos, len(globs))
        )

    found: list[str] = []
    seen = {start}
    queue: deque[tuple[tuple[frozenset[int], ...], str]] = deque([(start, "")])
    while queue:
        state, text = queue.popleft()
        if accepting(state):
            found.append(text)
            if len(found) >= limit:
                return found
        if deadline is not None and time.monotonic() > deadline:
            raise WitnessBudgetExceededError("witness search ran past the query's time budget")
        for c in alphabet:
            nxt = tuple(_step(g, s, c) for g, s in zip(globs, state, strict=True))
            if any(not nxt[i] for i in range(npos)) or nxt in seen:
                continue
            if len(seen) >= budget:
                raise WitnessBudgetExceededError(
                    f"witness search over {len(globs)} patterns ran past {budget} states"
                )
            seen.add(nxt)
            queue.append((nxt, text + c))
    return found


def find_witness(pos: Sequence[Glob], neg: Sequence[Glob], *, budget: int = 50_000) -> str | None:
    found = find_witnesses(pos, neg, limit=1, budget=budget)
    return found[0] if found else None


def _prefix_only(g: Glob) -> bool:
    """L(g) is "every string starting with g.prefix()" (a literal prefix then one unrestricted star)."""
    return bool(g.tokens) and g.tokens[-1] == (True, ANY) and len(g.prefix()) == len(g.tokens) - 1


def _quick_relation(a: Glob, b: Glob) -> tuple[bool, bool, bool] | None:
    """Decide the common IAM shapes (`prefix*`, literals) without a search."""
    pa, pb = a.prefix(), b.prefix()
    if not (pa.startswith(pb) or pb.startswith(pa)):
        return True, False, False
    a_open, b_open = _prefix_only(a), _prefix_only(b)
    if a_open and b_open:
        return False, pa.startswith(pb), pb.startswith(pa)
    la, lb = a.literal(), b.literal()
    if la is not None and (b_open or lb is not None):
        hit = matches(b, la)
        return not hit, hit, hit and (lb is not None and la == lb)
    if lb is not None and a_open:
        hit = matches(a, lb)
        return not hit, False, hit
    return None


@cache
def pair_relation(a: Glob, b: Glob, budget: int = 5_000) -> tuple[bool, bool, bool] | None:
    """(disjoint, a ⊆ b, b ⊆ a), or None when a search ran past its budget. Cached across queries, so it
    ignores the per-query deadline (its state budget bounds it)."""
    quick = _quick_relation(a, b)
    if quick is not None:
        return quick
    token = DEADLINE.set(None)
    try:
        if find_witness([a, b], [], budget=budget) is None:
            return True, False, False
        return (
            False,
            find_witness([a], [b], budget=budget) is None,
            find_witness([b], [a], budget=budget) is None,
        )
    except WitnessBudgetExceededError:
        return None
    finally:
        DEADLINE.reset(token)


@cache
def included(a: Glob, b: Glob) -> bool:
    """L(a) ⊆ L(b)."""
    return find_witness([a], [b]) is None


@cache
def disjoint(a: Glob, b: Glob) -> bool:
    """L(a) ∩ L(b) = ∅."""
    return find_witness([a, b], []) is None
