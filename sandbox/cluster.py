"""The cluster: storage plus the apiserver's write path (defaults, admission, validation) and controllers.

RBAC is enforced one layer up (`sandbox.api`), on the request; controllers write through this class
as the system does, without RBAC.
"""

from __future__ import annotations

import copy
import ipaddress
import random
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox import crds
from sandbox.admission import admit_pod
from sandbox.defaults import apply_defaults
from sandbox.errors import ApiError, bad_request, conflict, forbidden, not_found
from sandbox.logs import LogBook
from sandbox.patch import apply_patch
from sandbox.quantity import parse_quantity
from sandbox.resources import RESOURCES, ResourceType
from sandbox.store import Change, Store, now_rfc3339
from sandbox.validation import validate

__all__ = ["Cluster", "Reconciler", "drop_nulls", "resource"]

Reconciler = Callable[["Cluster", Change], None]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES if r.persisted}
_SETTLE_LIMIT = 200_000


def resource(plural: str, group: str = "") -> ResourceType:
    """A resource type by plural and group (the served version); KeyError when unknown."""
    for r in RESOURCES:
        if r.plural == plural and r.group == group and r.persisted:
            return r
    raise KeyError(f"{plural}.{group}" if group else plural)


def drop_nulls(value: Any) -> Any:
    """What decoding into typed structs does to a request body: `null` fields and empty lists disappear."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


class Cluster:
    """Objects, their write path, the controllers that react to changes, and container logs."""

    def __init__(self, *, rng_seed: int | None = None) -> None:
        self.store = Store()
        self.reconcilers: list[Reconciler] = []
        self.logs = LogBook()
        """(pod uid, container) → the current and the previous container's log lines."""
        self.rng = random.Random(rng_seed)
        self.started = time.time()
        self._pending: deque[Change] = deque()
        self._settling = False
        self._next_ip = int(ipaddress.ip_address("10.96.0.10"))
        self.store.listeners.append(self._pending.append)
        self.extras: dict[str, Any] = {}
        self.loading = False
        """While a scenario loads: time-based waits (a Job's retry back-off) are taken as already past."""
        self.quiet = False
        """While set, controllers record no events (a scenario's ages being settled)."""
        self._event_index: dict[tuple[str, str, str], str] = {}
        """(involved uid, reason, message) → the event that counts them."""

    # helpers -----------------------------------------------------------------------------------
    def rt_for(self, obj: dict[str, Any]) -> ResourceType:
        rt = _BY_KIND.get((obj.get("apiVersion", ""), obj.get("kind", "")))
        if rt is None:
            raise bad_request(
                f'no kind "{obj.get("kind")}" is registered for version "{obj.get("apiVersion")}"'
            )
        return rt

    def _generate_name(self, prefix: str) -> str:
        return prefix + "".join(self.rng.choice(_NAME_CHARS) for _ in range(5))

    def _admit_create(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if rt.namespaced:
            ns = self.store.find(resource("namespaces"), "", meta.get("namespace", ""))
            if ns is None:
                raise not_found("namespaces", meta.get("namespace", ""))
            if ns.get("status", {}).get("phase") == "Terminating":
                raise forbidden(
                    f'{rt.qualified} "{meta.get("name")}" is forbidden: unable to create new content '
                    f"in namespace {meta['namespace']} because it is being terminated",
                    rt.qualified,
                    meta.get("name", ""),
                )
        if rt.kind == "Pod":
            admit_pod(self.store, obj)
            sa = obj.get("spec", {}).get("serviceAccountName", "default")
            if self.store.find(resource("serviceaccounts"), meta["namespace"], sa) is None:
                raise forbidden(
                    f'pods "{meta.get("name")}" is forbidden: error looking up service account '
                    f'{meta["namespace"]}/{sa}: serviceaccount "{sa}" not found',
                    "pods",
                    meta["name"],
                )
        if rt.kind == "Service":
            spec = obj["spec"]
            if spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
                self._next_ip += 1
                spec["clusterIP"] = str(ipaddress.ip_address(self._next_ip))
            if spec.get("clusterIP"):
                spec["clusterIPs"] = [spec["clusterIP"]]

    def _admit_kind(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        if rt.kind == "CustomResourceDefinition" and not rt.custom:
            crds.validate_definition(obj)
        elif rt.custom:
            crds.admit_custom(self.store, rt, obj)

    def _admit_resize(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        def size(obj: dict[str, Any]) -> float:
            return parse_quantity(
                ((obj.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "0")
            )

        if size(new) <= size(old):
            return
        sc = self.store.find(
            resource("storageclasses", "storage.k8s.io"),
            "",
            (old.get("spec") or {}).get("storageClassName") or "",
        )
        if (old.get("status") or {}).get("phase") != "Bound" or not (sc or {}).get("allowVolumeExpansion"):
            name = new["metadata"]["name"]
            raise forbidden(
                f'persistentvolumeclaims "{name}" is forbidden: only dynamically provisioned pvc can be resized '
                "and the storageclass that provisions the pvc must support resize",
                "persistentvolumeclaims",
                name,
            )

    # the write path ----------------------------------------------------------------------------
    def create(
        self,
        rt: ResourceType,
        obj: dict[str, Any],
        *,
        namespace: str = "",
        dry_run: bool = False,
        seed: bool = False,
    ) -> dict[str, Any]:
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise bad_request("the request body must be an object with a metadata object")
        with self.store.lock:
            obj = apply_defaults(rt, drop_nulls(obj), creating=True)
            meta = obj["metadata"]
            if rt.namespaced:
                body_ns = meta.get("namespace")
                if namespace and body_ns and body_ns != namespace:
                    raise bad_request(
                        "the namespace of the provided object does not match the namespace "
                        "sent on the request"
                    )
                meta["namespace"] = namespace or body_ns or "default"
            else:
                meta.pop("namespace", None)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = self._generate_name(meta["generateName"])
                while (
                    self.store.find(rt, meta.get("namespace", "") if rt.namespaced else "", meta["name"])
                    is not None
                ):
                    meta["name"] = self._generate_name(
                        meta["generateName"]
                    )  # as the apiserver retries a clash
            if obj.get("kind", rt.kind) != rt.kind:
                raise bad_request(f"the kind {obj.get('kind')!r} does not match the resource {rt.plural!r}")
            obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
            validate(rt, obj)
            self._admit_kind(rt, obj)
            self._admit_create(rt, obj)
            stored = self.store.create(rt, obj, dry_run=dry_run, keep_timestamp=seed)
            if not dry_run:
                self.settle()
            return stored

    def update(
        self,
        rt: ResourceType,
        obj: dict[str, Any],
        *,
        namespace: str = "",
        name: str = "",
        subresource: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise bad_request("the request body must be an object with a metadata object")
        with self.store.lock:
            meta = obj["metadata"]
            if name and meta.get("name") and meta["name"] != name:
                raise bad_request("the name of the object does not match the name on the URL")
            meta["name"] = meta.get("name") or name
            if rt.namespaced:
                meta["namespace"] = namespace or meta.get("namespace") or "default"
            old = self.store.get(rt, meta.get("namespace", "") if rt.namespaced else "", meta["name"])
            obj = apply_defaults(rt, drop_nulls(obj), creating=False)
            if subresource != "status":
                validate(rt, obj, old)
                self._admit_kind(rt, obj)
                if rt.kind == "PersistentVolumeClaim":
                    self._admit_resize(obj, old)
            stored = self.store.update(rt, obj, subresource=subresource, dry_run=dry_run)
            meta = stored["metadata"]
            if (
                not dry_run
                and meta.get("deletionTimestamp")
                and not meta.get("finalizers")
                and rt.kind != "Namespace"
            ):
                self.store.delete(rt, meta.get("namespace", ""), meta["name"])  # the last finalizer went
            if not dry_run:
                self.settle()
            return stored

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        body: Any,
        *,
        subresource: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        with self.store.lock:
            current = self.store.find(rt, namespace if rt.namespaced else "", name)
            if (
                current is None
                and content_type.startswith("application/apply-patch")
                and isinstance(body, dict)
            ):
                # server-side apply creates what does not exist yet
                body = {**body, "metadata": {**(body.get("metadata") or {}), "name": name}}
                return self.create(rt, body, namespace=namespace, dry_run=dry_run)
            current = self.store.get(rt, namespace if rt.namespaced else "", name)
            if rt.custom and content_type.startswith("application/strategic-merge-patch"):
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                )
            patched = apply_patch(content_type, copy.deepcopy(current), body)
            meta = patched.setdefault("metadata", {})
            if meta.get("name") != name:
                raise bad_request("metadata.name may not be changed by a patch")
            wanted_rv = body.get("metadata", {}).get("resourceVersion") if isinstance(body, dict) else None
            meta["resourceVersion"] = wanted_rv or current["metadata"]["resourceVersion"]
            return self.update(
                rt, patched, namespace=namespace, name=name, subresource=subresource, dry_run=dry_run
            )

    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        *,
        dry_run: bool = False,
        propagation: str = "Background",
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        with self.store.lock:
            if rt.kind == "Namespace":
                current = self.store.get(rt, "", name)
                if dry_run or current.get("status", {}).get("phase") == "Terminating":
                    return current
                now = now_rfc3339()
                stored = self.store.update(
                    rt, {**current, "metadata": {**current["metadata"], "deletionTimestamp": now}}
                )
                stored = self.store.update(
                    rt, {**stored, "status": {"phase": "Terminating"}}, subresource="status"
                )
                self.settle()
                return stored
            current = self.store.get(rt, namespace if rt.namespaced else "", name)
            if current["metadata"].get("finalizers"):
                # finalizers hold the object: it is marked for deletion, and goes when the last is removed
                if uid and current["metadata"]["uid"] != uid:
                    raise conflict(rt.qualified, name)
                if dry_run or current["metadata"].get("deletionTimestamp"):
                    return current
                held = self.mark_deleting(rt, current)
                self.settle()
                return held
            gone = self.store.delete(
                rt, namespace, name, dry_run=dry_run, uid=uid, resource_version=resource_version
            )
            if not dry_run:
                if propagation == "Orphan":
                    self.orphan_dependents(gone["metadata"]["uid"])
                self.settle()
            return gone

    def mark_deleting(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Set deletionTimestamp on an object its finalizers hold (what a DELETE does to it)."""
        meta = {**obj["metadata"], "deletionTimestamp": now_rfc3339(), "deletionGracePeriodSeconds": 0}
        if "generation" in meta:
            meta["generation"] += 1
        return self.store.update(rt, {**obj, "metadata": meta})

    def types(self) -> list[ResourceType]:
        """Every stored type: the built-in ones and the storage versions CRDs serve."""
        custom = [r for r in self.store.custom.values() if not r.storage_version]
        return [r for r in (*RESOURCES, *custom) if r.persisted]

    def orphan_dependents(self, uid: str) -> None:
        for rt in self.types():
            if not rt.persisted or not rt.namespaced:
                continue
            for obj in self.store.list(rt):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == uid for r in refs):
                    kept = [r for r in refs if r.get("uid") != uid]
                    self.store.update(rt, {**obj, "metadata": {**obj["metadata"], "ownerReferences": kept}})

    # controllers -------------------------------------------------------------------------------
    def settle(self) -> None:
        """Run the controllers until no change is left unprocessed (called after every write)."""
        if self._settling:
            return
        self._settling = True
        try:
            steps = 0
            while self._pending:
                change = self._pending.popleft()
                for reconcile in self.reconcilers:
                    reconcile(self, change)
                steps += 1
                if steps > _SETTLE_LIMIT:
                    raise ApiError(500, "InternalError", "controllers did not settle")
        finally:
            self._settling = False

    def tick(self) -> None:
        """Let controllers that depend on time (restart counts) catch up; the server calls this periodically."""
        with self.store.lock:
            for reconcile in self.reconcilers:
                tick = getattr(reconcile, "tick", None)
                if tick is not None:
                    tick(self)
            self.settle()

    def record_event(
        self, involved: dict[str, Any], event_type: str, reason: str, message: str, component: str
    ) -> None:
        """An Event about `involved`, aggregated with an identical earlier one (count + 1), as kubelets do."""
        if self.quiet:
            return
        events = resource("events")
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        now = now_rfc3339()
        key = (meta.get("uid", ""), reason, message)
        earlier = self._event_index.get(key)
        ev = self.store.find(events, namespace, earlier) if earlier else None
        if ev is not None:
            self.store.update(
                events,
                {
                    **ev,
                    "count": ev.get("count", 1) + 1,
                    "lastTimestamp": now,
                    "metadata": {**ev["metadata"], "resourceVersion": ""},
                },
            )
            return
        name = f"{meta['name']}.{self.rng.getrandbits(64):016x}"
        while self.store.find(events, namespace, name) is not None:  # e.g. after a restored state file
            name = f"{meta['name']}.{self.rng.getrandbits(64):016x}"
        self._event_index[key] = name
        self.store.create(
            events,
            {
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": {
                    "kind": involved.get("kind"),
                    "namespace": meta.get("namespace", ""),
                    "name": meta["name"],
                    "uid": meta.get("uid", ""),
                    "apiVersion": involved.get("apiVersion"),
                    "resourceVersion": meta.get("resourceVersion", ""),
                },
                "reason": reason,
                "message": message,
                "type": event_type,
                "count": 1,
                "source": {"component": component},
                "firstTimestamp": now,
                "lastTimestamp": now,
                "reportingComponent": component,
                "reportingInstance": "",
            },
        )

    def seed(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create an object from a scenario (keeps a backdated creationTimestamp)."""
        return self.create(self.rt_for(obj), obj, seed=True)

    def restore(self, path: Path) -> None:
        """Load a state file saved by `Store.save` and let the controllers catch up with it."""
        self.store.load(path)
        self.rng.seed()  # a restored state already holds the names the fixed seed would produce
        with self.store.lock:
            for rt in RESOURCES:
                if rt.persisted:
                    for obj in self.store.list(rt):
                        self._pending.append(Change(self.store.rv, "ADDED", rt, obj))
            self.settle()
