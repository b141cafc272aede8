"""Evaluate the PromQL subset over series the sandbox computes on demand (no stored samples).

Supported (see docs/sandbox.md): selectors with `=`, `!=`, `=~`, `!~`; range selectors, subqueries and
`offset`; rate/irate/increase/delta, `*_over_time` (avg, min, max, sum, count, last, quantile,
stddev), abs/ceil/floor/round/sqrt/exp/ln/clamp/clamp_min/clamp_max, scalar/vector/time;
aggregations sum/avg/min/max/count/group/stddev/stdvar/quantile/topk/bottomk with by/without; binary
arithmetic and comparisons (with `bool`), `and`/`or`/`unless`, vector matching with on/ignoring and
group_left/group_right.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any, Protocol

from sandbox.promql_parse import (
    Aggregate,
    Binary,
    Call,
    Matcher,
    Number,
    PromQLError,
    String,
    Subquery,
    Unary,
    VectorSelector,
    parse,
)

__all__ = ["Evaluator", "Series", "SeriesSource", "query_instant", "query_range"]

LOOKBACK_S = 300.0
Labels = dict[str, str]
Vector = list[tuple[Labels, float]]
Matrix = list[tuple[Labels, list[tuple[float, float]]]]


class Series(Protocol):
    labels: Labels

    def points(self, lo: float, hi: float) -> list[tuple[float, float]]:
        """Samples with lo < t <= hi, oldest first."""
        ...


SeriesSource = Callable[[list[Matcher]], list[Series]]


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _drop_name(labels: Labels) -> Labels:
    return {k: v for k, v in labels.items() if k != "__name__"}


def _quantile(q: float, values: list[float]) -> float:
    if not values:
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def _aggregate_values(op: str, values: list[float], param: Any) -> float:
    if op == "sum":
        return float(sum(values))
    if op == "avg":
        return sum(values) / len(values)
    if op == "min":
        return min(values)
    if op == "max":
        return max(values)
    if op == "count":
        return float(len(values))
    if op == "group":
        return 1.0
    if op in ("stddev", "stdvar"):
        return _stddev(values) ** (1 if op == "stddev" else 2)
    if op == "quantile":
        return _quantile(float(param or 0), values)
    raise PromQLError(f"unsupported aggregation {op!r}")


def _increase(points: list[tuple[float, float]]) -> float:
    total = 0.0
    for (_, a), (_, b) in itertools.pairwise(points):
        total += b if b < a else b - a
    return total


def _stddev(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


_OVER_TIME: dict[str, Callable[[list[float]], float]] = {
    "avg_over_time": lambda v: sum(v) / len(v),
    "min_over_time": min,
    "max_over_time": max,
    "sum_over_time": sum,
    "count_over_time": lambda v: float(len(v)),
    "last_over_time": lambda v: v[-1],
    "stddev_over_time": _stddev,
    "stdvar_over_time": lambda v: _stddev(v) ** 2,
}
_MATH: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": math.ceil,
    "floor": math.floor,
    "sqrt": lambda x: math.sqrt(x) if x >= 0 else math.nan,
    "exp": math.exp,
    "ln": lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan),
    "round": lambda x: float(round(x)),
}


def _arith(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a))
        if op == "%":
            return math.fmod(a, b) if b else math.nan
        if op == "^":
            return float(a**b)
        if op == "atan2":
            return math.atan2(a, b)
    except (OverflowError, ValueError):
        return math.nan
    return {"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]  # type: ignore[return-value]


_COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}


class Evaluator:
    def __init__(self, source: SeriesSource) -> None:
        self.source = source
        self._cache: dict[int, list[Series]] = {}

    def _series(self, node: VectorSelector) -> list[Series]:
        key = id(node)
        if key not in self._cache:
            self._cache[key] = self.source(node.matchers)
        return self._cache[key]

    def eval(self, node: Any, t: float) -> Any:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, String):
            return node.value
        if isinstance(node, VectorSelector):
            at = t - node.offset_s
            if node.range_s is not None:
                return [
                    (s.labels, pts) for s in self._series(node) if (pts := s.points(at - node.range_s, at))
                ]
            out: Vector = []
            for s in self._series(node):
                pts = s.points(at - LOOKBACK_S, at)
                if pts:
                    out.append((s.labels, pts[-1][1]))
            return out
        if isinstance(node, Subquery):
            return self._subquery(node, t)
        if isinstance(node, Unary):
            value = self.eval(node.expr, t)
            return -value if isinstance(value, float) else [(_drop_name(lab), -v) for lab, v in value]
        if isinstance(node, Call):
            return self._call(node, t)
        if isinstance(node, Aggregate):
            return self._aggregate(node, t)
        if isinstance(node, Binary):
            return self._binary(node, t)
        raise PromQLError(f"cannot evaluate {type(node).__name__}")

    def _subquery(self, node: Subquery, t: float) -> Matrix:
        step = node.step_s or 60.0
        end = t - node.offset_s
        first = math.floor((end - node.range_s) / step) * step + step
        series: dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[float, float]]]] = {}
        at = first
        while at <= end + 1e-9:
            value = self.eval(node.expr, at)
            if isinstance(value, float):
                value = [({}, value)]
            for labels, v in value:
                series.setdefault(_key(labels), (labels, []))[1].append((at, v))
            at += step
        return list(series.values())

    def _matrix_arg(self, node: Call, index: int, t: float) -> Matrix:
        if index >= len(node.args):
            raise PromQLError(f"{node.func}: missing argument {index + 1}")
        value = self.eval(node.args[index], t)
        if not (isinstance(value, list) and (not value or isinstance(value[0][1], list))):
            raise PromQLError(f"{node.func}: expected a range vector in argument {index + 1}")
        return value  # type: ignore[no-any-return]

    def _call(self, node: Call, t: float) -> Any:
        f = node.func
        if f in ("rate", "irate", "increase", "delta", "idelta"):
            out: Vector = []
            for labels, pts in self._matrix_arg(node, 0, t):
                if len(pts) < 2:
                    continue
                if f == "irate":
                    (t1, a), (t2, b) = pts[-2], pts[-1]
                    out.append((_drop_name(labels), (b if b < a else b - a) / (t2 - t1)))
                    continue
                span = pts[-1][0] - pts[0][0]
                change = _increase(pts) if f in ("rate", "increase") else pts[-1][1] - pts[0][1]
                if f == "rate":
                    out.append((_drop_name(labels), change / span))
                else:
                    window = _range_of(node.args[0]) or span
                    out.append((_drop_name(labels), change * window / span))
            return out
        if f in _OVER_TIME:
            return [
                (_drop_name(lab), _OVER_TIME[f]([v for _, v in pts]))
                for lab, pts in self._matrix_arg(node, 0, t)
                if pts
            ]
        if f == "quantile_over_time":
            q = self.eval(node.args[0], t)
            return [
                (_drop_name(lab), _quantile(float(q), [v for _, v in pts]))
                for lab, pts in self._matrix_arg(node, 1, t)
                if pts
            ]
        if f in _MATH:
            return [(_drop_name(lab), _MATH[f](v)) for lab, v in self._vector_arg(node, 0, t)]
        if f in ("clamp_min", "clamp_max", "clamp"):
            vec = self._vector_arg(node, 0, t)
            bounds = [float(self.eval(a, t)) for a in node.args[1:]]
            lo = bounds[0] if f in ("clamp_min", "clamp") else -math.inf
            hi = bounds[-1] if f in ("clamp_max", "clamp") else math.inf
            return [(_drop_name(lab), min(max(v, lo), hi)) for lab, v in vec]
        if f == "scalar":
            vec = self._vector_arg(node, 0, t)
            return vec[0][1] if len(vec) == 1 else math.nan
        if f == "vector":
            return [({}, float(self.eval(node.args[0], t)))]
        if f == "time":
            return float(t)
        if f in ("sort", "sort_desc"):
            return sorted(self._vector_arg(node, 0, t), key=lambda s: s[1], reverse=f == "sort_desc")
        raise PromQLError(f"unknown or unsupported function {f!r}")

    def _vector_arg(self, node: Call, index: int, t: float) -> Vector:
        value = self.eval(node.args[index], t) if index < len(node.args) else None
        if not isinstance(value, list):
            raise PromQLError(f"{node.func}: expected an instant vector in argument {index + 1}")
        return value

    def _aggregate(self, node: Aggregate, t: float) -> Vector:
        vec = self.eval(node.expr, t)
        if not isinstance(vec, list):
            raise PromQLError(f"{node.op}: expected an instant vector")
        groups: dict[tuple[tuple[str, str], ...], tuple[Labels, list[tuple[Labels, float]]]] = {}
        for labels, v in vec:
            if node.without:
                kept = {k: x for k, x in labels.items() if k not in node.labels and k != "__name__"}
            else:
                kept = {k: labels[k] for k in node.labels if k in labels}
            groups.setdefault(_key(kept), (kept, []))[1].append((labels, v))
        out: Vector = []
        param = self.eval(node.param, t) if node.param is not None else None
        for kept, members in groups.values():
            values = [v for _, v in members]
            if node.op in ("topk", "bottomk"):
                k = int(float(param or 0))
                ordered = sorted(members, key=lambda m: m[1], reverse=node.op == "topk")
                out += [(_drop_name(lab), v) for lab, v in ordered[:k]]
                continue
            value = _aggregate_values(node.op, values, param)
            out.append((kept, float(value)))
        return out

    def _binary(self, node: Binary, t: float) -> Any:
        lhs, rhs = self.eval(node.lhs, t), self.eval(node.rhs, t)
        op = node.op
        if isinstance(lhs, float) and isinstance(rhs, float):
            return float(_arith(op, lhs, rhs))
        if isinstance(lhs, float) or isinstance(rhs, float):
            scalar_left = isinstance(lhs, float)
            vec = rhs if scalar_left else lhs
            out: Vector = []
            for labels, v in vec:
                a, b = (lhs, v) if scalar_left else (v, rhs)
                result = _arith(op, a, b)
                if op in _COMPARISONS and not node.bool_mod:
                    if result:
                        out.append((labels, v))
                else:
                    out.append((_drop_name(labels), float(result)))
            return out
        return self._vector_binary(node, lhs, rhs)

    def _signature(self, node: Binary, labels: Labels) -> tuple[tuple[str, str], ...]:
        if node.on is not None:
            return _key({k: labels[k] for k in node.on if k in labels})
        ignored = set(node.ignoring or []) | {"__name__"}
        return _key({k: v for k, v in labels.items() if k not in ignored})

    def _vector_binary(self, node: Binary, lhs: Vector, rhs: Vector) -> Vector:
        op = node.op
        right: dict[tuple[tuple[str, str], ...], list[tuple[Labels, float]]] = {}
        for labels, v in rhs:
            right.setdefault(self._signature(node, labels), []).append((labels, v))
        if op in ("and", "unless"):
            return [(lab, v) for lab, v in lhs if (self._signature(node, lab) in right) == (op == "and")]
        if op == "or":
            left_sigs = {self._signature(node, lab) for lab, _ in lhs}
            return lhs + [(lab, v) for lab, v in rhs if self._signature(node, lab) not in left_sigs]
        out: Vector = []
        if node.group == "right":
            left: dict[tuple[tuple[str, str], ...], list[tuple[Labels, float]]] = {}
            for labels, v in lhs:
                left.setdefault(self._signature(node, labels), []).append((labels, v))
            for labels, v in rhs:
                match = left.get(self._signature(node, labels))
                if match:
                    self._emit(node, out, match[0][1], v, labels, match[0][0], v_is_left=False)
            return out
        for labels, v in lhs:
            match = right.get(self._signature(node, labels))
            if not match:
                continue
            if len(match) > 1 and not node.group:
                raise PromQLError(
                    "many-to-many matching not allowed: matching labels must be unique on one side"
                )
            self._emit(node, out, v, match[0][1], labels, match[0][0], v_is_left=True)
        return out

    def _emit(
        self, node: Binary, out: Vector, a: float, b: float, own: Labels, other: Labels, v_is_left: bool
    ) -> None:
        result = _arith(node.op, a, b)
        if node.op in _COMPARISONS and not node.bool_mod:
            if result:
                out.append((own, a if v_is_left else b))
            return
        labels = _drop_name(own)
        if not node.group and node.on is not None:
            labels = {k: own[k] for k in node.on if k in own}
        for name in node.include:
            if name in other:
                labels[name] = other[name]
        out.append((labels, float(result)))


def _range_of(node: Any) -> float | None:
    return node.range_s if isinstance(node, VectorSelector | Subquery) else None


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return (
        repr(float(value))
        if not float(value).is_integer()
        else str(int(value))
        if abs(value) < 1e15
        else repr(value)
    )


def query_instant(source: SeriesSource, text: str, t: float) -> dict[str, Any]:
    """The `data` of `/api/v1/query`."""
    value = Evaluator(source).eval(parse(text), t)
    if isinstance(value, float):
        return {"resultType": "scalar", "result": [t, _fmt(value)]}
    if isinstance(value, str):
        return {"resultType": "string", "result": [t, value]}
    if value and isinstance(value[0][1], list):
        return {
            "resultType": "matrix",
            "result": [{"metric": lab, "values": [[p, _fmt(v)] for p, v in pts]} for lab, pts in value],
        }
    return {"resultType": "vector", "result": [{"metric": lab, "value": [t, _fmt(v)]} for lab, v in value]}


def query_range(
    source: SeriesSource, text: str, start: float, end: float, step: float, max_points: int = 11_000
) -> dict[str, Any]:
    """The `data` of `/api/v1/query_range`."""
    if step <= 0:
        raise PromQLError("zero or negative query resolution step widths are not accepted")
    if end < start:
        raise PromQLError("end timestamp must not be before start time")
    if (end - start) / step > max_points:
        raise PromQLError(f"exceeded maximum resolution of {max_points} points per timeseries")
    node = parse(text)
    evaluator = Evaluator(source)
    series: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    t = start
    while t <= end + 1e-9:
        value = evaluator.eval(node, t)
        if isinstance(value, float):
            value = [({}, value)]
        elif value and isinstance(value[0][1], list):
            raise PromQLError(
                'invalid expression type "range vector" for range query, must be Scalar or instant Vector'
            )
        for labels, v in value:
            entry = series.setdefault(_key(labels), {"metric": labels, "values": []})
            entry["values"].append([round(t, 3), _fmt(v)])
        t += step
    return {"resultType": "matrix", "result": list(series.values())}
