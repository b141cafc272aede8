"""A parser for the PromQL subset the sandbox serves (see docs/sandbox.md for the list)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AGGREGATIONS",
    "Aggregate",
    "Binary",
    "Call",
    "Expr",
    "Matcher",
    "Number",
    "PromQLError",
    "String",
    "Subquery",
    "Unary",
    "VectorSelector",
    "parse",
    "parse_duration",
]

AGGREGATIONS = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "stddev",
    "stdvar",
    "quantile",
    "topk",
    "bottomk",
    "group",
}
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<duration>\d+(?:\.\d+)?(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*(?![a-zA-Z_0-9]))|
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![a-zA-Z_:]))|
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|
    (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)|
    (?P<op>==|!=|=~|!~|>=|<=|[-+*/%^<>=(){}\[\],:])
    )""",
    re.VERBOSE,
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PRECEDENCE = {
    "or": 1,
    "unless": 1,
    "and": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    ">": 3,
    "<=": 3,
    ">=": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "atan2": 5,
    "^": 6,
}


class PromQLError(ValueError):
    """A query the sandbox cannot parse or evaluate (Prometheus answers these with `bad_data`)."""


def parse_duration(text: str) -> float:
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise PromQLError(f"bad duration {text!r}")
    return total


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        have = labels.get(self.name, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = re.fullmatch(self.value, have) is not None
        return found if self.op == "=~" else not found


@dataclass
class Number:
    value: float


@dataclass
class String:
    value: str


@dataclass
class VectorSelector:
    name: str
    matchers: list[Matcher]
    range_s: float | None = None
    offset_s: float = 0.0


@dataclass
class Subquery:
    expr: Any
    range_s: float
    step_s: float | None
    offset_s: float = 0.0


@dataclass
class Call:
    func: str
    args: list[Any]


@dataclass
class Aggregate:
    op: str
    expr: Any
    param: Any = None
    labels: list[str] = field(default_factory=list)
    without: bool = False


@dataclass
class Binary:
    op: str
    lhs: Any
    rhs: Any
    bool_mod: bool = False
    on: list[str] | None = None
    ignoring: list[str] | None = None
    group: str = ""  # "left" | "right"
    include: list[str] = field(default_factory=list)


@dataclass
class Unary:
    expr: Any


Expr = Number | String | VectorSelector | Subquery | Call | Aggregate | Binary | Unary


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise PromQLError(f"unexpected character {text[pos:].strip()[:1]!r} at position {pos}")
            kind = m.lastgroup or "op"
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str, int]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("eof", "", len(self.text))

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise PromQLError(f"expected {value!r} at position {tok[2]}, found {tok[1] or 'end of query'!r}")
        self.i += 1
        return tok

    def label_list(self) -> list[str]:
        self.take("(")
        labels: list[str] = []
        while self.peek()[1] != ")":
            labels.append(self.take()[1])
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        return labels

    def expression(self, min_prec: int = 1) -> Any:
        lhs = self.unary()
        while True:
            kind, op, _ = self.peek()
            prec = _PRECEDENCE.get(op) if kind in ("op", "ident") else None
            if prec is None or prec < min_prec:
                return lhs
            self.take()
            node = Binary(op, lhs, None)
            if self.peek()[1] == "bool":
                self.take()
                node.bool_mod = True
            if self.peek()[1] in ("on", "ignoring"):
                which = self.take()[1]
                labels = self.label_list()
                if which == "on":
                    node.on = labels
                else:
                    node.ignoring = labels
                if self.peek()[1] in ("group_left", "group_right"):
                    node.group = self.take()[1].split("_")[1]
                    node.include = self.label_list() if self.peek()[1] == "(" else []
            node.rhs = self.expression(prec if op == "^" else prec + 1)
            lhs = node

    def unary(self) -> Any:
        if self.peek()[1] in ("-", "+"):
            sign = self.take()[1]
            inner = self.unary()
            return Unary(inner) if sign == "-" else inner
        return self.postfix(self.primary())

    def postfix(self, node: Any) -> Any:
        while True:
            if self.peek()[1] == "[":
                start = self.take("[")[2] + 1
                depth = 1
                while depth:
                    tok = self.take()
                    if tok[0] == "eof":
                        raise PromQLError("unclosed '['")
                    depth += {"[": 1, "]": -1}.get(tok[1], 0)
                inner = self.text[start : self.tokens[self.i - 1][2]].strip()
                if ":" in inner:
                    rng, _, step = inner.partition(":")
                    node = Subquery(node, parse_duration(rng), parse_duration(step) if step.strip() else None)
                elif isinstance(node, VectorSelector):
                    node.range_s = parse_duration(inner)
                else:
                    raise PromQLError("ranges only allowed for vector selectors")
            elif self.peek()[1] == "offset":
                self.take()
                sign = -1.0 if self.peek()[1] == "-" else 1.0
                if sign < 0:
                    self.take()
                kind, text, pos = self.take()
                if kind not in ("duration", "number"):
                    raise PromQLError(f"expected a duration after offset at position {pos}")
                seconds = sign * parse_duration(text)
                if isinstance(node, VectorSelector | Subquery):
                    node.offset_s = seconds
            else:
                return node

    def selector(self, name: str) -> VectorSelector:
        matchers: list[Matcher] = []
        if self.peek()[1] == "{":
            self.take("{")
            while self.peek()[1] != "}":
                label = self.take()[1]
                op = self.take()[1]
                if op not in ("=", "!=", "=~", "!~"):
                    raise PromQLError(f"unexpected {op!r} in label matching")
                kind, raw, _ = self.take()
                if kind != "string":
                    raise PromQLError(f"label value for {label} must be a quoted string")
                matchers.append(Matcher(label, op, bytes(raw[1:-1], "utf-8").decode("unicode_escape")))
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
        if name:
            matchers.insert(0, Matcher("__name__", "=", name))
        if not matchers:
            raise PromQLError("vector selector must contain at least one matcher")
        return VectorSelector(name, matchers)

    def primary(self) -> Any:
        kind, value, pos = self.peek()
        if kind == "number":
            self.take()
            return Number(float(value))
        if kind == "duration":
            raise PromQLError(f"unexpected duration {value!r} at position {pos}")
        if kind == "string":
            self.take()
            return String(value[1:-1])
        if value == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        if value == "{":
            return self.selector("")
        if kind == "ident":
            self.take()
            lowered = value.lower()
            if lowered in AGGREGATIONS and self.peek()[1] in ("(", "by", "without"):
                return self.aggregation(lowered)
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                while self.peek()[1] != ")":
                    args.append(self.expression())
                    if self.peek()[1] == ",":
                        self.take(",")
                self.take(")")
                return Call(lowered, args)
            return self.selector(value)
        raise PromQLError(f"unexpected {value or 'end of query'!r} at position {pos}")

    def aggregation(self, op: str) -> Aggregate:
        node = Aggregate(op, None)
        if self.peek()[1] in ("by", "without"):
            node.without = self.take()[1] == "without"
            node.labels = self.label_list()
        self.take("(")
        first = self.expression()
        if self.peek()[1] == ",":
            self.take(",")
            node.param, node.expr = first, self.expression()
        else:
            node.expr = first
        self.take(")")
        if self.peek()[1] in ("by", "without"):
            node.without = self.take()[1] == "without"
            node.labels = self.label_list()
        return node


def parse(text: str) -> Any:
    """The syntax tree of a PromQL expression; PromQLError names the position of a problem."""
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek()[0] != "eof":
        raise PromQLError(f"unexpected {parser.peek()[1]!r} at position {parser.peek()[2]}")
    return node
