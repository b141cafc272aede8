"""Jobs (failed: back-off limit or deadline exceeded, with the last failed pod's exit) and CronJobs (missed
schedules and why, a suspended schedule, a schedule that does not parse)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tools.kubernetes.cron import CronError, parse_schedule, utc
from tools.kubernetes.findings import Finding
from tools.kubernetes.render import human_age
from tools.kubernetes.view import ClusterView, subject

__all__ = ["cronjob_findings", "job_findings"]


def _owner(obj: dict[str, Any], kind: str) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return str(ref.get("name"))
    return None


def _last_failed_pod(view: ClusterView, job: dict[str, Any]) -> dict[str, Any] | None:
    mine = [
        p
        for p in view.in_namespace("pods", job["metadata"]["namespace"])
        if _owner(p, "Job") == job["metadata"]["name"] and (p.get("status") or {}).get("phase") == "Failed"
    ]
    return max(mine, key=lambda p: p["metadata"].get("creationTimestamp") or "", default=None)


def job_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    for job in view.items("jobs"):
        ns, who = job["metadata"]["namespace"], subject("Job", job)
        spec, status = job.get("spec") or {}, job.get("status") or {}
        failed = next(
            (
                c
                for c in status.get("conditions") or []
                if c.get("type") == "Failed" and c.get("status") == "True"
            ),
            None,
        )
        if failed is None:
            continue
        evidence = [
            f"condition Failed=True ({failed.get('reason', '')}): {failed.get('message', '')}",
            f"status.failed = {status.get('failed', 0)}, spec.backoffLimit = {spec.get('backoffLimit', 6)}",
        ]
        pod = _last_failed_pod(view, job)
        if pod is not None:
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                term = (cs.get("state") or {}).get("terminated") or {}
                if term:
                    evidence.append(
                        f"pod {pod['metadata']['name']} container {cs.get('name')}: "
                        f"terminated {term.get('reason', '')}, exit code {term.get('exitCode')}"
                    )
                    log = _tail(view, ns, pod["metadata"]["name"], str(cs.get("name")))
                    if log:
                        evidence.append(f'last log line: "{log}"')
        cron = _owner(job, "CronJob")
        out.append(
            Finding(
                f"{who} failed ({failed.get('reason', 'Failed')})"
                + (f", run of CronJob {cron}" if cron else ""),
                (
                    f"every try failed and it reached its backoffLimit of {spec.get('backoffLimit', 6)}"
                    if failed.get("reason") == "BackoffLimitExceeded"
                    else f"{failed.get('reason', '')}: {failed.get('message', '')}"
                ),
                evidence,
                "fix the error the failed pod's logs show, then delete the Job and create it again "
                "(a failed Job is not retried)",
                "error",
                who,
                affected=int(status.get("failed", 1) or 1),
            )
        )
    return out


def _tail(view: ClusterView, ns: str, pod: str, container: str) -> str:
    try:
        text = view.access.request(
            "GET", f"/api/v1/namespaces/{ns}/pods/{pod}/log", {"container": container, "tailLines": 3}
        )
    except Exception:  # logs are a bonus: a gone pod or a forbidden log read leaves the finding intact
        return ""
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def _missed(view: ClusterView, cj: dict[str, Any], now: datetime) -> Finding | None:
    spec, status, meta = cj.get("spec") or {}, cj.get("status") or {}, cj["metadata"]
    who = subject("CronJob", cj)
    schedule = parse_schedule(spec.get("schedule", ""))
    since_text = status.get("lastScheduleTime") or meta.get("creationTimestamp")
    if not since_text:
        return None
    since = utc(since_text)
    grace = int(spec.get("startingDeadlineSeconds") or 0) or 60
    firings = schedule.firings(since, now)
    missed = [t for t in firings if (now - t).total_seconds() > grace]
    if not missed:
        return None
    active = [a.get("name") for a in status.get("active") or []]
    policy = spec.get("concurrencyPolicy", "Allow")
    count = f"{len(missed)}{'+' if len(missed) >= 100 else ''}"
    if active and policy == "Forbid":
        cause = (
            f"concurrencyPolicy Forbid skips every run while an earlier Job runs, and Job {active[0]} has been "
            f"active since the last scheduled run {human_age(since_text)} ago"
        )
        fix = f"find why Job {active[0]} never finishes (diagnose its pod; add spec.activeDeadlineSeconds), then delete it"
    elif len(missed) >= 100 and spec.get("startingDeadlineSeconds") is None:
        cause = "over 100 runs were missed: the controller stops trying and asks for startingDeadlineSeconds"
        fix = "set spec.startingDeadlineSeconds (e.g. 300), and check the kube-controller-manager"
    else:
        cause = "the CronJob controller has not started the scheduled runs (controller down, or clock skew)"
        fix = "check kube-controller-manager's logs and the cluster's clocks"
    return Finding(
        f"{who} missed {count} scheduled run(s) since {since_text}",
        cause,
        [
            f"spec.schedule = {spec.get('schedule')}, spec.concurrencyPolicy = {policy}",
            f"status.lastScheduleTime = {status.get('lastScheduleTime', 'never')}",
            f"status.active = {active or 'none'}",
            f"first missed run: {missed[0].isoformat()}",
        ],
        fix,
        "error",
        who,
        affected=min(len(missed), 100),
    )


def cronjob_findings(view: ClusterView, now: float | None = None) -> list[Finding]:
    out: list[Finding] = []
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    for cj in view.items("cronjobs"):
        spec, who = cj.get("spec") or {}, subject("CronJob", cj)
        if spec.get("suspend"):
            out.append(
                Finding(
                    f"{who} is suspended",
                    "spec.suspend is true: none of its scheduled runs start",
                    ["spec.suspend = true", f"spec.schedule = {spec.get('schedule')}"],
                    "set spec.suspend to false when the runs should resume",
                    "info",
                    who,
                )
            )
            continue
        try:
            finding = _missed(view, cj, moment)
        except CronError as exc:
            finding = Finding(
                f"{who} has a schedule that does not parse",
                str(exc),
                [f"spec.schedule = {spec.get('schedule')}"],
                "write the schedule as five cron fields (minute hour day month weekday)",
                "error",
                who,
            )
        if finding is not None:
            out.append(finding)
    return out
