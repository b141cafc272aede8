"""Watch: a stream of `{"type": ..., "object": ...}` lines, from a resourceVersion or from the current state."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from sandbox import tables
from sandbox.errors import ApiError
from sandbox.http import Request
from sandbox.resources import ResourceType
from sandbox.selectors import parse_field_selector, parse_label_selector
from sandbox.store import Store

__all__ = ["watch_stream"]

_DEFAULT_TIMEOUT = 1800.0


def _plain(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


def watch_stream(
    store: Store,
    rt: ResourceType,
    req: Request,
    namespace: str,
    name: str,
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Iterator[bytes]:
    """Events for one resource, filtered by namespace, name and selectors, until timeoutSeconds.

    When the client asks for `as=Table` (kubectl get -w), each event carries a one-row Table.
    """

    def _converted(kind: str, obj: dict[str, Any]) -> bytes:
        return _plain(kind, convert(obj) if convert is not None and kind != "ERROR" else obj)

    _line = _converted
    if tables.wants_table(req.header("Accept")):
        include = req.query.get("includeObject", "")

        def _line(kind: str, obj: dict[str, Any]) -> bytes:
            if kind == "ERROR":
                return _plain(kind, obj)
            meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            return _plain(kind, tables.to_table(rt, [obj], meta, include))

    labels = parse_label_selector(req.query.get("labelSelector"))
    fields = parse_field_selector(req.query.get("fieldSelector"), rt.kind)

    def matches(obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        meta = obj["metadata"]
        if namespace and meta.get("namespace") != namespace:
            return False
        if name and meta.get("name") != name:
            return False
        return labels(obj) and fields(obj)

    timeout = float(req.query.get("timeoutSeconds") or _DEFAULT_TIMEOUT)
    deadline = time.monotonic() + timeout
    requested = req.query.get("resourceVersion", "")
    first: list[bytes] = []
    with store.lock:
        if requested in ("", "0"):
            since = store.rv
            first = [_line("ADDED", o) for o in store.list(rt, namespace or None) if matches(o)]
        else:
            try:
                since = int(requested)
                store.changes_since(since)
            except ValueError:
                since = store.rv
            except ApiError as exc:
                first = [_line("ERROR", exc.status())]
                since = -1

    def events() -> Iterator[bytes]:
        nonlocal since
        yield from first
        if since < 0:
            return
        while True:
            with store.lock:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if store.rv <= since:
                    store.changed.wait(min(remaining, 5.0))
                try:
                    batch = list(store.changes_since(since))
                except ApiError as exc:
                    yield _line("ERROR", exc.status())
                    return
                if batch:
                    since = batch[-1].rv
            for change in batch:
                if change.resource.key != rt.key:
                    continue
                now, before = matches(change.obj), matches(change.old)
                if change.type == "DELETED" and before:
                    yield _line("DELETED", change.obj)
                elif now and not before:
                    yield _line("ADDED", change.obj)
                elif now and before:
                    yield _line("MODIFIED", change.obj)
                elif before and not now:
                    yield _line("DELETED", change.obj)
            if not batch:
                yield b""  # lets the server notice a client that went away

    return events()
