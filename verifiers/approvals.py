"""An independent check of an audit trail: every approved change ran at most once, and against the
state its preview showed.

It re-derives its verdict from the audit rows alone (plain mappings, as `GET /v1/threads/{id}/audit`
answers or `opsgraph threads export` writes them) and imports neither the approval gate nor the tools
that wrote the rows. Its rules:

- an approval is executed (status ok, error or unknown) at most once;
- an executed approved call names its approval;
- a call whose preview recorded a precondition reports what it found at write time, and that is the
  previewed state: for each object, the resourceVersion the write was made against is the previewed
  one, or its fingerprint (the object without status and bookkeeping) is the previewed one (only its
  status moved); for each file, the hash found is the previewed hash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["check_audit"]

_EXECUTED = ("ok", "error", "unknown")


def _objects_as_previewed(row: Mapping[str, Any], where: str) -> list[str]:
    precondition, observed = row.get("precondition") or {}, row.get("observed") or {}
    previewed = {
        (o.get("kind"), o.get("namespace"), o.get("name")): o for o in precondition.get("objects") or []
    }
    problems = []
    for o in observed.get("objects") or []:
        key = (o.get("kind"), o.get("namespace"), o.get("name"))
        name = f"{key[0]} {key[1] + '/' if key[1] else ''}{key[2]}"
        wanted = previewed.get(key)
        if wanted is None:
            problems.append(f"{where}: wrote {name}, which its preview did not show")
            continue
        if o.get("previewed_resourceVersion") != wanted.get("resourceVersion"):
            problems.append(f"{where}: {name}: the write's record of the preview does not match the preview")
        same_version = o.get("resourceVersion") == wanted.get("resourceVersion")
        same_object = o.get("fingerprint") is not None and o.get("fingerprint") == wanted.get("fingerprint")
        if not (same_version or same_object):
            problems.append(
                f"{where}: {name} was written at resourceVersion {o.get('resourceVersion')}, "
                f"not the previewed {wanted.get('resourceVersion')}"
            )
    return problems


def _files_as_previewed(row: Mapping[str, Any], where: str) -> list[str]:
    previewed = (row.get("precondition") or {}).get("files") or {}
    found = (row.get("observed") or {}).get("files") or {}
    return [
        f"{where}: {path} had sha256 {str(found.get(path))[:12]} at write time, not the previewed {str(digest)[:12]}"
        for path, digest in previewed.items()
        if found.get(path) != digest
    ]


def check_audit(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The problems found in an audit trail, one line each; empty when every rule holds."""
    rows = list(rows)
    problems: list[str] = []
    runs = Counter(
        r.get("approval_id") for r in rows if r.get("approval_id") and r.get("status") in _EXECUTED
    )
    problems += [f"approval {a} was executed {n} times" for a, n in sorted(runs.items()) if n > 1]
    for n, row in enumerate(rows):
        where = f"row {row.get('id', n)} ({row.get('tool')})"
        approved = row.get("decision") in ("approved", "edited")
        if approved and row.get("status") in _EXECUTED and not row.get("approval_id"):
            problems.append(f"{where}: executed without naming its approval")
        if not approved or not row.get("precondition") or row.get("status") not in ("ok", "error"):
            continue
        if row.get("status") == "ok" and not row.get("observed"):
            problems.append(f"{where}: its preview had a precondition but the write recorded no state")
            continue
        problems += _objects_as_previewed(row, where) + _files_as_previewed(row, where)
    return problems
