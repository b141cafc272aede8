"""CronJob schedules (the standard five fields, names and `@daily`-style macros): which times they fire.

Enough to tell how many runs a CronJob has missed since its last one; day-of-month and day-of-week
combine as cron does (either matches when both are restricted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["CronError", "Schedule", "parse_schedule", "utc"]

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_NAMES = {
    3: {
        m: n
        for n, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
        )
    },
    4: {d: n for n, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


class CronError(ValueError):
    """A schedule that does not parse, naming the field."""


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _BOUNDS[index]
    out: set[int] = set()
    for part in text.lower().split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"field {index + 1} ({text!r}): bad step {step_text!r}")
        if body in ("*", "?"):
            start, end = low, high
        else:
            a, _, b = body.partition("-")
            names = _NAMES.get(index, {})
            first = int(a) if a.isdigit() else names.get(a)
            last = (int(b) if b.isdigit() else names.get(b)) if b else first
            if first is None or last is None:
                raise CronError(f"field {index + 1} ({text!r}): {body!r} is not a number or a name")
            start, end = first, last
            if step and not b:
                end = high
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise CronError(f"field {index + 1} ({text!r}): out of range {low}-{high}")
        out.update(range(start, end + 1, step or 1))
    if index == 4 and 7 in out:
        out = (out - {7}) | {0}
    return frozenset(out)


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def _day_ok(self, t: datetime) -> bool:
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def next_after(self, t: datetime) -> datetime | None:
        """The first firing strictly after `t` (None within five years: a schedule like Feb 30)."""
        t = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=366 * 5)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            elif not self._day_ok(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        return None

    def firings(self, after: datetime, until: datetime, cap: int = 101) -> list[datetime]:
        """Firings in (after, until], at most `cap` of them."""
        out: list[datetime] = []
        t: datetime | None = after
        while len(out) < cap:
            t = self.next_after(t) if t is not None else None
            if t is None or t > until:
                break
            out.append(t)
        return out


def parse_schedule(text: str) -> Schedule:
    """A Schedule, or CronError naming the field that is wrong."""
    expr = _MACROS.get(text.strip().lower(), text.strip())
    if expr.startswith("@every"):
        raise CronError(f"{text!r}: @every is not a cron schedule the CronJob controller accepts")
    fields = expr.split()
    if len(fields) != 5:
        raise CronError(f"{text!r}: expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minutes, hours, days, months, weekdays = (_field(f, i) for i, f in enumerate(fields))
    return Schedule(minutes, hours, days, months, weekdays, fields[2] in ("*", "?"), fields[4] in ("*", "?"))


def utc(text: str) -> datetime:
    return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
