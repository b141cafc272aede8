"""What a write's preview was computed from, and the check that the write is made against that state.

The preview records, for every object it read, its `resourceVersion` and a fingerprint: a hash of the
object without its status and bookkeeping (resourceVersion, managedFields, generation). The approved write
reads each object again: if its fingerprint differs (someone scaled it, edited it, deleted or created it),
nothing is written and `PreconditionFailedError` says what changed; if only the status moved, the write
goes ahead. Either way the write carries the resourceVersion it just read (on the patch, the scale
update, the delete's preconditions), so the API server refuses it (409) if the object changes in
between: the object written is the one checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tools.base import PreconditionFailedError

__all__ = ["Expectation", "fingerprint", "precondition_of", "resource_version"]


class _Change(Protocol):
    kind: str
    namespace: str
    name: str
    before: dict[str, Any] | None


_BOOKKEEPING = ("resourceVersion", "managedFields", "generation")


def fingerprint(obj: dict[str, Any] | None) -> str | None:
    """A hash of what an approval is about: the object without status and bookkeeping; None if absent."""
    if obj is None:
        return None
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _BOOKKEEPING}
    body = {k: v for k, v in obj.items() if k not in ("status", "metadata")} | {"metadata": meta}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:20]


def resource_version(obj: dict[str, Any] | None) -> str | None:
    return None if obj is None else (obj.get("metadata") or {}).get("resourceVersion")


def _where(kind: str, namespace: str, name: str) -> str:
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def precondition_of(changes: Iterable[_Change]) -> dict[str, Any]:
    """The preview's precondition: each object it read, as it was."""
    return {
        "objects": [
            {
                "kind": c.kind,
                "namespace": c.namespace,
                "name": c.name,
                "resourceVersion": resource_version(c.before),
                "fingerprint": fingerprint(c.before),
            }
            for c in changes
        ]
    }


@dataclass
class Expectation:
    """The approved preview's objects, checked one by one as the write reads them (inactive without one)."""

    precondition: dict[str, Any] | None
    seen: list[dict[str, Any]] = field(default_factory=list)
    """Each object as the write found it: previewed and current resourceVersion and fingerprint."""

    @property
    def active(self) -> bool:
        return self.precondition is not None

    def _previewed(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        for o in (self.precondition or {}).get("objects", []):
            if (o.get("kind"), o.get("namespace"), o.get("name")) == (kind, namespace, name):
                return dict(o)
        return None

    def check(self, kind: str, namespace: str, name: str, current: dict[str, Any] | None) -> str | None:
        """The resourceVersion to write against (None without a precondition, or for an object to create);
        PreconditionFailedError if the object is not as previewed."""
        if not self.active:
            return None
        where = _where(kind, namespace, name)
        wanted = self._previewed(kind, namespace, name)
        if wanted is None:
            raise PreconditionFailedError(f"{where} was not part of the preview")
        now = fingerprint(current)
        self.seen.append(
            {
                "kind": kind,
                "namespace": namespace,
                "name": name,
                "previewed_resourceVersion": wanted.get("resourceVersion"),
                "previewed_fingerprint": wanted.get("fingerprint"),
                "resourceVersion": resource_version(current),
                "fingerprint": now,
            }
        )
        if now != wanted.get("fingerprint"):
            if current is None:
                raise PreconditionFailedError(f"{where} was deleted since the preview")
            if wanted.get("fingerprint") is None:
                raise PreconditionFailedError(f"{where} was created since the preview")
            raise PreconditionFailedError(
                f"{where} was changed since the preview (resourceVersion "
                f"{wanted.get('resourceVersion')} -> {resource_version(current)})"
            )
        return resource_version(current)

    def observed(self, after: dict[tuple[str, str, str], str | None]) -> dict[str, Any]:
        """What the audit keeps: each object as checked, with its resourceVersion after the write."""
        return {
            "objects": [
                {**o, "written_resourceVersion": after.get((o["kind"], o["namespace"], o["name"]))}
                for o in self.seen
            ]
        }
