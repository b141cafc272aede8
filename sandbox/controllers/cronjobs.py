"""The CronJob controller (kube-controller-manager's cronjob controller v2), on the sandbox's clock.

On each CronJob or owned Job change and every tick it: drops finished and vanished Jobs from
`status.active` (`SawCompletedJob`, `MissingJob`), sets `lastSuccessfulTime`, deletes finished Jobs
beyond the history limits, then starts the most recent unmet schedule time, if any: not when it is
later than `startingDeadlineSeconds` (`MissSchedule`), not while a Job runs under `Forbid`
(`JobAlreadyActive`), after deleting the running ones under `Replace`. More than 100 missed times
are reported as upstream (`TooManyMissedTimes`); only the latest one runs. Jobs are named
`<cronjob>-<scheduled minute since the epoch>` and set `lastScheduleTime`.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.cluster import Cluster, resource
from sandbox.controllers.workloads import controller_ref
from sandbox.errors import ApiError
from sandbox.store import Change, parse_rfc3339, rfc3339

__all__ = ["CronSchedule", "parse_schedule", "reconcile_cronjobs"]

clock = time.time
_COMPONENT = "cronjob-controller"
_SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


@dataclass(frozen=True)
class CronSchedule:
    """A standard cron schedule as robfig/cron (which the controller uses) reads it."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    """Day of month or day of week is `*`/`?`: a day must then match both, else either (cron's rule)."""
    every: timedelta | None = None

    def _day_matches(self, moment: datetime) -> bool:
        dom, dow = moment.day in self.days, (moment.isoweekday() % 7) in self.weekdays
        return dom and dow if self.any_day else dom or dow

    def next(self, after: datetime) -> datetime | None:
        """The first time strictly after `after` (whole seconds), in `after`'s time zone; None within 5 years."""
        if self.every is not None:
            return after.replace(microsecond=0) + self.every
        moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = moment + timedelta(days=5 * 366)
        while moment < limit:
            if moment.month not in self.months:
                year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
                moment = moment.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self._day_matches(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            elif moment.hour not in self.hours:
                moment = (moment + timedelta(hours=1)).replace(minute=0)
            elif moment.minute not in self.minutes:
                moment += timedelta(minutes=1)
            else:
                return moment
        return None


def _value(text: str, index: int) -> int:
    names = _MONTHS if index == 3 else _DAYS if index == 4 else []
    if text.lower() in names:
        return names.index(text.lower()) + (1 if index == 3 else 0)
    if not text.isdigit():
        raise ValueError(f"failed to parse int from {text}")
    return int(text)


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    low, high = _RANGES[index]
    values: set[int] = set()
    star = False
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"failed to parse int from {step_text}")
        if span in ("*", "?"):
            start, end, star = low, high, True
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _value(first, index), _value(last, index)
        else:
            start = end = _value(span, index)
            if step is not None:
                end = high
        if index == 4 and end == 7:  # 7 is Sunday too
            values.add(0)
            end = 6 if start <= 6 else 7
        if start < low or end > (7 if index == 4 else high) or start > end:
            raise ValueError(f"end of range ({end}) above maximum ({high}): {span}")
        values.update(range(start, end + 1, step or 1))
    return frozenset(v % 7 if index == 4 else v for v in values), star and "/" not in text


def parse_schedule(text: str) -> CronSchedule:
    """`*/5 * * * *`, names (`mon`, `jan`), ranges, steps, `@daily`-style macros and `@every 1h30m`."""
    text = _MACROS.get(text.strip(), text.strip())
    if text.startswith("@every "):
        none = frozenset[int]()
        return CronSchedule(none, none, none, none, none, any_day=True, every=_duration(text[7:]))
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: [{text}]")
    parsed = [_field(f, i) for i, f in enumerate(fields)]
    star_dom_or_dow = parsed[2][1] or parsed[4][1] or fields[2] in ("*", "?") or fields[4] in ("*", "?")
    minutes, hours, days, months, weekdays = (p[0] for p in parsed)
    return CronSchedule(minutes, hours, days, months, weekdays, any_day=star_dom_or_dow)


def _duration(text: str) -> timedelta:
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    for char in text.strip():
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total, number = total + float(number) * units[char], ""
        else:
            raise ValueError(f"failed to parse duration {text}")
    if number or total <= 0:
        raise ValueError(f"failed to parse duration {text}")
    return timedelta(seconds=total)


def _finished(job: dict[str, Any]) -> str | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def _moment(text: str | None, zone: Any) -> datetime | None:
    return datetime.fromtimestamp(parse_rfc3339(text), zone) if text else None


def _most_recent(cj: dict[str, Any], schedule: CronSchedule, now: datetime) -> tuple[datetime | None, int]:
    """The latest unmet schedule time and how many were missed (mostRecentScheduleTime, upstream's
    approximation of the count included)."""
    status, spec = cj.get("status") or {}, cj["spec"]
    zone = now.tzinfo
    earliest = _moment(status.get("lastScheduleTime"), zone) or _moment(
        cj["metadata"]["creationTimestamp"], zone
    )
    assert earliest is not None
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None and now - timedelta(seconds=deadline) > earliest:
        earliest = now - timedelta(seconds=deadline)
    first = schedule.next(earliest)
    second = schedule.next(first) if first else None
    if first is None or now < first:
        return None, 0
    if second is None or now < second:
        return first, 0
    interval = max(1, round((second - first).total_seconds()))
    missed = int((now - first).total_seconds()) // interval + 1
    latest: datetime | None = None
    moment = schedule.next(first + timedelta(seconds=(missed - 2) * interval))
    while moment is not None and moment <= now:
        latest, moment = moment, schedule.next(moment)
    return latest, missed


_SYNCING: set[str] = set()
"""CronJobs being synced: a Job that finishes while its CronJob creates it waits for the next sync."""


def _sync(cluster: Cluster, cj: dict[str, Any]) -> None:
    uid = cj["metadata"]["uid"]
    if uid in _SYNCING:
        return
    _SYNCING.add(uid)
    try:
        _sync_once(cluster, cj)
    finally:
        _SYNCING.discard(uid)


def _sync_once(cluster: Cluster, cj: dict[str, Any]) -> None:
    jobs_rt, cronjobs_rt = resource("jobs", "batch"), resource("cronjobs", "batch")
    ns, name = cj["metadata"]["namespace"], cj["metadata"]["name"]
    spec = cj["spec"]
    status = copy.deepcopy(cj.get("status") or {})
    owned = {
        j["metadata"]["name"]: j for r, j in cluster.store.dependents(cj["metadata"]["uid"]) if r is jobs_rt
    }
    active = []
    for ref in status.get("active") or []:
        job = owned.get(ref.get("name", ""))
        if job is None:
            cluster.record_event(
                cj, "Normal", "MissingJob", f"Active job went missing: {ref.get('name')}", _COMPONENT
            )
        elif (outcome := _finished(job)) is not None:
            cluster.record_event(
                cj,
                "Normal",
                "SawCompletedJob",
                f"Saw completed job: {job['metadata']['name']}, status: {outcome}",
                _COMPONENT,
            )
            done = (job.get("status") or {}).get("completionTime")
            if outcome == "Complete" and done and done > status.get("lastSuccessfulTime", ""):
                status["lastSuccessfulTime"] = done
        else:
            active.append(ref)
    status["active"] = active
    for outcome, key, default in (
        ("Complete", "successfulJobsHistoryLimit", 3),
        ("Failed", "failedJobsHistoryLimit", 1),
    ):
        finished = sorted(
            (j for j in owned.values() if _finished(j) == outcome),
            key=lambda j: (j.get("status") or {}).get("startTime") or j["metadata"]["creationTimestamp"],
        )
        for job in finished[: max(0, len(finished) - int(spec.get(key, default)))]:
            cluster.delete(jobs_rt, ns, job["metadata"]["name"], propagation="Background")
            cluster.record_event(
                cj, "Normal", "SuccessfulDelete", f"Deleted job {job['metadata']['name']}", _COMPONENT
            )
    if not cj["metadata"].get("deletionTimestamp") and not cluster.loading:
        _start_due(cluster, cj, status, owned)
    status = {k: v for k, v in status.items() if v not in (None, [])}
    fresh = cluster.store.find(cronjobs_rt, ns, name)
    if fresh is not None and (fresh.get("status") or {}) != status:
        cluster.store.update(cronjobs_rt, {**fresh, "status": status}, subresource="status")


def _start_due(cluster: Cluster, cj: dict[str, Any], status: dict[str, Any], owned: dict[str, Any]) -> None:
    spec = cj["spec"]
    zone: Any = UTC
    if spec.get("timeZone"):
        try:
            zone = ZoneInfo(spec["timeZone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            message = f"invalid timeZone: {spec['timeZone']!r}: {exc}"
            cluster.record_event(cj, "Warning", "UnknownTimeZone", message, _COMPONENT)
            return
    if spec.get("suspend"):
        return
    try:
        schedule = parse_schedule(str(spec.get("schedule", "")))
    except ValueError as exc:
        message = f"unparseable schedule: {spec.get('schedule')!r} : {exc}"
        cluster.record_event(cj, "Warning", "UnparseableSchedule", message, _COMPONENT)
        return
    now = datetime.fromtimestamp(clock(), zone)
    scheduled, missed = _most_recent({**cj, "status": status}, schedule, now)
    if scheduled is None:
        return
    if missed > 100:
        message = (
            "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
        )
        cluster.record_event(cj, "Warning", "TooManyMissedTimes", message, _COMPONENT)
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None and scheduled + timedelta(seconds=deadline) < now:
        stamp = scheduled.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        cluster.record_event(
            cj, "Warning", "MissSchedule", f"Missed scheduled time to start a job: {stamp}", _COMPONENT
        )
        return
    job_name = f"{cj['metadata']['name']}-{int(scheduled.timestamp()) // 60}"
    if any(r.get("name") == job_name for r in status["active"]) or status.get("lastScheduleTime") == rfc3339(
        scheduled.timestamp()
    ):
        return
    policy = spec.get("concurrencyPolicy", "Allow")
    if policy == "Forbid" and status["active"]:
        message = "Not starting job because prior execution is running and concurrency policy is Forbid"
        cluster.record_event(cj, "Normal", "JobAlreadyActive", message, _COMPONENT)
        return
    jobs_rt = resource("jobs", "batch")
    if policy == "Replace":
        for ref in status["active"]:
            if ref.get("name") in owned:
                cluster.delete(jobs_rt, cj["metadata"]["namespace"], ref["name"], propagation="Background")
                cluster.record_event(
                    cj, "Normal", "SuccessfulDelete", f"Deleted job {ref['name']}", _COMPONENT
                )
        status["active"] = []
    template = copy.deepcopy(spec.get("jobTemplate") or {})
    meta = template.get("metadata") or {}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name,
            "namespace": cj["metadata"]["namespace"],
            "labels": meta.get("labels") or {},
            "annotations": {
                **(meta.get("annotations") or {}),
                _SCHEDULED: scheduled.isoformat().replace("+00:00", "Z"),
            },
            "ownerReferences": [controller_ref(cj)],
        },
        "spec": template.get("spec") or {},
    }
    try:
        created = cluster.create(jobs_rt, job)
    except ApiError as exc:
        if exc.reason != "AlreadyExists":
            cluster.record_event(
                cj, "Warning", "FailedCreate", f"Error creating job: {exc.message}", _COMPONENT
            )
            return
        created = cluster.store.get(jobs_rt, cj["metadata"]["namespace"], job_name)
    else:
        cluster.record_event(cj, "Normal", "SuccessfulCreate", f"Created job {job_name}", _COMPONENT)
    status["active"].append(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": job_name,
            "namespace": cj["metadata"]["namespace"],
            "uid": created["metadata"]["uid"],
            "resourceVersion": created["metadata"]["resourceVersion"],
        }
    )
    status["lastScheduleTime"] = rfc3339(scheduled.timestamp())


def _tick(cluster: Cluster) -> None:
    for cj in cluster.store.list(resource("cronjobs", "batch")):
        _sync(cluster, cj)


def reconcile_cronjobs(cluster: Cluster, change: Change) -> None:
    kind, obj = change.resource.kind, change.obj
    if kind == "CronJob" and change.type != "DELETED":
        current = cluster.store.find(change.resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
        if current is obj and (change.old is None or change.old.get("spec") != obj.get("spec")):
            _sync(cluster, current)
    elif kind == "Job":
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "CronJob" and ref.get("controller"):
                owner = cluster.store.find(
                    resource("cronjobs", "batch"), obj["metadata"]["namespace"], ref["name"]
                )
                ended = change.type == "DELETED" or _finished(obj) != _finished(change.old or {})
                if owner is not None and owner["metadata"]["uid"] == ref.get("uid") and ended:
                    _sync(cluster, owner)


reconcile_cronjobs.tick = _tick  # type: ignore[attr-defined]
