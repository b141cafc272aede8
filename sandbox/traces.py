"""Usage traces (Azure Public Dataset V1, CC-BY-4.0; see data/ATTRIBUTION.md) as functions of time.

The traces repeat: step k of a trace covers `anchor + (k + n·N)·300 s` for every whole n, with
`anchor` the start-up time rounded down to 5 minutes minus one trace length, so "now" falls at the end
of a trace and the past weeks are filled.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["STEP_S", "Trace", "load_traces"]

STEP_S = 300
_DATA = Path(__file__).parent / "data" / "azure_v1_cpu_traces_subset.csv.gz"


@dataclass(frozen=True)
class Trace:
    """One VM's 5-minute CPU percentages, normalised so that its mean is 1.0."""

    name: str
    shape: tuple[float, ...]
    prefix: tuple[float, ...]
    """prefix[k] = sum(shape[:k]) · STEP_S, for the counter's integral."""
    peak: float
    anchor: float

    def _index(self, t: float) -> tuple[int, int, float]:
        offset = t - self.anchor
        whole, rest = divmod(offset, STEP_S * len(self.shape))
        step, frac = divmod(rest, STEP_S)
        return int(whole), int(step), frac

    def level(self, t: float) -> float:
        """Relative load at time t (mean 1.0)."""
        return self.shape[self._index(t)[1]]

    def integral(self, t: float) -> float:
        """∫ level dt from the anchor to t, in seconds (monotonic: a counter's shape)."""
        whole, step, frac = self._index(t)
        total = self.prefix[-1] + self.shape[-1] * STEP_S
        return whole * total + self.prefix[step] + self.shape[step] * frac


@lru_cache(maxsize=1)
def load_traces(anchor: float | None = None) -> tuple[Trace, ...]:
    """The shipped traces, anchored so that the trace ends at start-up."""
    text = gzip.decompress(_DATA.read_bytes()).decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)[1:]
    columns: list[list[float]] = [[] for _ in header]
    for row in reader:
        for i, value in enumerate(row[1:]):
            columns[i].append(max(float(value), 0.01))
    now = anchor if anchor is not None else time.time()
    start = (now // STEP_S) * STEP_S - STEP_S * len(columns[0])
    traces = []
    for name, values in zip(header, columns, strict=True):
        mean = sum(values) / len(values)
        # soften the VM spikes (a 5 % VM bursting to 99 %) into what a container's usage looks like
        softened = [(v / mean) ** 0.6 for v in values]
        soft_mean = sum(softened) / len(softened)
        shape = tuple(v / soft_mean for v in softened)
        prefix = [0.0]
        for v in shape[:-1]:
            prefix.append(prefix[-1] + v * STEP_S)
        traces.append(Trace(name, shape, tuple(prefix), max(shape), start))
    return tuple(traces)
