"""Objects in memory: uid, resourceVersion, generation and timestamps; a change log for watches.

Stored objects are immutable snapshots: every write stores a new dict, so readers may hold and
serialize what they got without copying. A write takes `Store.lock`; watchers wait on `Store.changed`.
"""

from __future__ import annotations

import calendar
import json
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.errors import ApiError, already_exists, conflict, not_found
from sandbox.resources import RESOURCES, ResourceType

__all__ = ["Change", "Store", "now_rfc3339", "parse_rfc3339", "rfc3339"]

_List = list  # `Store.list` shadows the builtin inside the class body
_LOG_SIZE = 20_000
_BY_KEY = {r.key: r for r in RESOURCES if r.persisted}
_GROUPS = {r.group for r in RESOURCES}


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> float:
    """The epoch seconds of a timestamp as `rfc3339` writes it (`2024-05-01T12:00:00Z`)."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def now_rfc3339() -> str:
    return rfc3339(time.time())


@dataclass(frozen=True)
class Change:
    """One entry of the change log: what a watch sends, and what controllers react to."""

    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: ResourceType
    obj: dict[str, Any]
    old: dict[str, Any] | None = None


def _cache_key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return (obj["kind"], meta.get("namespace", ""), meta["name"], meta.get("resourceVersion", ""))


def _without_rv(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}


def _spec_part(obj: dict[str, Any]) -> Any:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}


class Store:
    """All objects of a cluster, keyed by resource, namespace and name."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._tables: dict[str, dict[tuple[str, str], dict[str, Any]]] = {r.key: {} for r in RESOURCES}
        self._encoded: dict[tuple[str, str, str, str], bytes] = {}
        self.rv = 1
        self.log: deque[Change] = deque(maxlen=_LOG_SIZE)
        self.listeners: list[Callable[[Change], None]] = []
        self.owned: dict[str, set[tuple[str, str, str]]] = {}
        """owner uid → (resource key, namespace, name) of the objects whose ownerReferences name it."""
        self.custom: dict[tuple[str, str, str], ResourceType] = {}
        """(group, version, plural) → the types CustomResourceDefinitions serve (see sandbox.crds)."""
        self.schemas: dict[str, dict[str, Any]] = {}
        """"group/version/Kind" → a served custom version's openAPIV3Schema."""

    def register(self, rt: ResourceType) -> None:
        with self.lock:
            self.custom[(rt.group, rt.version, rt.plural)] = rt
            self._tables.setdefault(rt.key, {})

    def unregister(self, group: str, plural: str) -> None:
        with self.lock:
            for key in [k for k in self.custom if (k[0], k[2]) == (group, plural)]:
                del self.custom[key]

    def type_for_key(self, key: str) -> ResourceType | None:
        return _BY_KEY.get(key) or next(
            (r for r in self.custom.values() if r.key == key and not r.storage_version), None
        )

    # reads -------------------------------------------------------------------------------------
    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self._tables.get(rt.key, {}).get((namespace, name))
        if obj is None:
            raise not_found(rt.qualified, name)
        return obj

    def find(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        return self._tables.get(rt.key, {}).get((namespace, name))

    def list(self, rt: ResourceType, namespace: str | None = None) -> _List[dict[str, Any]]:
        with self.lock:  # request threads read while another thread writes
            table = self._tables.get(rt.key, {})
            if namespace is None:
                return [table[k] for k in sorted(table)]
            return [table[k] for k in sorted(k for k in table if k[0] == namespace)]

    def dependents(self, uid: str) -> _List[tuple[ResourceType, dict[str, Any]]]:
        """Objects whose ownerReferences name `uid`."""
        out = []
        with self.lock:
            entries = sorted(self.owned.get(uid, ()))
        for key, ns, name in entries:
            obj = self._tables.get(key, {}).get((ns, name))
            rt = self.type_for_key(key)
            if obj is not None and rt is not None:
                out.append((rt, obj))
        return out

    def count(self, rt: ResourceType) -> int:
        return len(self._tables.get(rt.key, {}))

    def encoded(self, obj: dict[str, Any]) -> bytes:
        """The JSON bytes of a stored snapshot, cached (snapshots never change)."""
        key = _cache_key(obj)
        data = self._encoded.get(key)
        if data is None:
            data = json.dumps(obj, separators=(",", ":")).encode()
            self._encoded[key] = data
        return data

    # writes ------------------------------------------------------------------------------------
    def _index_owners(self, entry: tuple[str, str, str], obj: dict[str, Any]) -> None:
        for ref in obj["metadata"].get("ownerReferences") or []:
            self.owned.setdefault(ref.get("uid", ""), set()).add(entry)

    def _commit(self, kind: str, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Give `obj` the next resourceVersion, store it (or drop it when DELETED) and tell watchers."""
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if old is not None:
            self._encoded.pop(_cache_key(old), None)
        entry = (rt.key, key[0], key[1])
        if old is not None:
            for ref in old["metadata"].get("ownerReferences") or []:
                self.owned.get(ref.get("uid", ""), set()).discard(entry)
        if kind == "DELETED":
            self._tables.get(rt.key, {}).pop(key, None)
        else:
            self._tables.setdefault(rt.key, {})[key] = obj
            self._index_owners(entry, obj)
        change = Change(self.rv, kind, rt, obj, old)
        self.log.append(change)
        for listener in self.listeners:
            listener(change)
        self.changed.notify_all()

    def create(
        self, rt: ResourceType, obj: dict[str, Any], *, dry_run: bool = False, keep_timestamp: bool = False
    ) -> dict[str, Any]:
        with self.lock:
            meta = obj["metadata"]
            namespace = meta.get("namespace", "") if rt.namespaced else ""
            if (namespace, meta["name"]) in self._tables.get(rt.key, {}):
                raise already_exists(rt.qualified, meta["name"])
            meta = {
                **meta,
                "uid": meta.get("uid") if keep_timestamp and meta.get("uid") else str(uuid.uuid4()),
            }
            if not (keep_timestamp and meta.get("creationTimestamp")):
                meta["creationTimestamp"] = now_rfc3339()
            if "spec" in obj:
                meta["generation"] = 1
            meta.pop("deletionTimestamp", None)
            stored = {"apiVersion": rt.api_version, "kind": rt.kind, **obj, "metadata": meta}
            if dry_run:
                meta.pop("resourceVersion", None)
                return stored
            self._commit("ADDED", rt, stored, None)
            return stored

    def update(
        self, rt: ResourceType, obj: dict[str, Any], *, subresource: str = "", dry_run: bool = False
    ) -> dict[str, Any]:
        """Replace an object; a non-empty stale resourceVersion is a 409 Conflict.

        `subresource="status"` keeps the stored spec; a plain update keeps the stored status when the
        resource has a status subresource. The generation moves when the spec changes.
        """
        with self.lock:
            meta = obj["metadata"]
            name = meta["name"]
            old = self.get(rt, meta.get("namespace", "") if rt.namespaced else "", name)
            old_meta = old["metadata"]
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != old_meta.get("resourceVersion"):
                raise conflict(rt.qualified, name)
            if "status" in rt.subresources:
                if subresource == "status":
                    obj = {**old, "status": obj.get("status", {})}
                    meta = {**old_meta, **{k: v for k, v in meta.items() if k in ("labels", "annotations")}}
                elif "status" in old:
                    obj = {**obj, "status": old["status"]}
            new_meta = {**meta, "uid": old_meta["uid"], "creationTimestamp": old_meta["creationTimestamp"]}
            if old_meta.get("deletionTimestamp"):
                new_meta["deletionTimestamp"] = old_meta["deletionTimestamp"]
            if "generation" in old_meta:
                bump = subresource != "status" and _spec_part(obj) != _spec_part(old)
                new_meta["generation"] = old_meta["generation"] + (1 if bump else 0)
            stored = {**obj, "apiVersion": rt.api_version, "kind": rt.kind, "metadata": new_meta}
            if _without_rv(stored) == _without_rv(old):
                return old  # a no-op write does not move the resourceVersion, as upstream
            if dry_run:
                new_meta["resourceVersion"] = old_meta["resourceVersion"]
                return stored
            self._commit("MODIFIED", rt, stored, old)
            return stored

    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        *,
        dry_run: bool = False,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            old = self.get(rt, namespace if rt.namespaced else "", name)
            if uid and old["metadata"]["uid"] != uid:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {rt.qualified} "{name}": '
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                    f"{old['metadata']['uid']}",
                )
            if resource_version and old["metadata"]["resourceVersion"] != resource_version:
                raise conflict(rt.qualified, name)
            gone = {**old, "metadata": {**old["metadata"], "deletionTimestamp": now_rfc3339()}}
            if dry_run:
                return gone
            self._commit("DELETED", rt, gone, old)
            return gone

    def restamp(self, rt: ResourceType, obj: dict[str, Any], created: str) -> None:
        """Replace a stored object in place with another creationTimestamp, without a change record.

        Only for giving a scenario its ages while it loads (`sandbox.aging`), before anyone watches.
        """
        with self.lock:
            meta = obj["metadata"]
            key = (meta.get("namespace", "") if rt.namespaced else "", meta["name"])
            old = self._tables.get(rt.key, {}).get(key)
            if old is None:
                return
            self._encoded.pop(_cache_key(old), None)
            self._tables[rt.key][key] = {**obj, "metadata": {**meta, "creationTimestamp": created}}

    # watch -------------------------------------------------------------------------------------
    def changes_since(self, rv: int) -> Iterable[Change]:
        """Changes after `rv`; 410 Gone when the log no longer reaches back that far."""
        if self.log and rv < self.log[0].rv - 1 and rv < self.rv:
            raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.log[0].rv - 1})")
        return [c for c in self.log if c.rv > rv]

    # persistence -------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write every object to a SQLite file (replacing its contents)."""
        with self.lock, closing(sqlite3.connect(path)) as db, db:  # `with db` commits, closing() closes
            db.execute("DROP TABLE IF EXISTS objects")
            db.execute("CREATE TABLE objects (resource TEXT, namespace TEXT, name TEXT, body TEXT)")
            db.execute("DROP TABLE IF EXISTS meta")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT INTO meta VALUES ('resourceVersion', ?)", (str(self.rv),))
            db.executemany(
                "INSERT INTO objects VALUES (?, ?, ?, ?)",
                [
                    (key, ns, name, json.dumps(obj))
                    for key, table in self._tables.items()
                    for (ns, name), obj in table.items()
                ],
            )

    def load(self, path: Path) -> None:
        """Replace the contents with a file written by `save`."""
        with closing(sqlite3.connect(path)) as db:
            rows = db.execute("SELECT resource, namespace, name, body FROM objects").fetchall()
            rv = db.execute("SELECT value FROM meta WHERE key='resourceVersion'").fetchone()
        with self.lock:
            for table in self._tables.values():
                table.clear()
            self.owned.clear()
            self._encoded.clear()
            for key, ns, name, body in rows:
                if key in self._tables or key.split("/", 1)[0] not in ("", *_GROUPS):
                    obj = json.loads(body)
                    self._tables.setdefault(key, {})[(ns, name)] = obj
                    self._index_owners((key, ns, name), obj)
            self.rv = int(rv[0]) if rv else self.rv
            self.log.clear()
