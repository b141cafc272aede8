"""Where workflows persist: the LangGraph checkpointer plus our thread index and audit log, in one database.

`memory` (tests), `sqlite:///path` (the default, a file under the data directory) or `postgresql://...`
(several server processes sharing threads). The audit and thread tables live beside the checkpoints.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, Field

__all__ = ["AuditEntry", "Store", "StoreError", "ThreadInfo", "open_store", "utcnow"]


class StoreError(RuntimeError):
    """The checkpoint database cannot be opened or used; the message names the URL."""


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class AuditEntry(BaseModel):
    """One tool call, as the audit log keeps it."""

    id: int | None = None
    thread_id: str
    agent: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    result: str = ""
    status: str = "ok"  # ok | error | rejected | refused
    decision: str = "auto"  # auto | approved | rejected | edited | refused
    actor: str = ""
    approver: str | None = None
    at: str = Field(default_factory=utcnow)
    duration_ms: float = 0.0


class ThreadInfo(BaseModel):
    thread_id: str
    owner: str
    title: str
    created_at: str
    updated_at: str
    status: str = "idle"  # idle | running | interrupted | error


class _Sql(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """A read only: it may go through another connection than the writes."""
        ...

    def close(self) -> None: ...


class _SqliteSql:
    """Writes go through one connection, in turn; with a database file (`path`), each thread reads through
    its own connection, so a read never waits for a write (in WAL mode readers never block, but a shared
    connection would make them wait for a writer that waits for another process's write lock)."""

    def __init__(self, conn: sqlite3.Connection, path: str | None = None) -> None:
        self._conn = conn
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._path = path
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self._path is None:  # an in-memory database has one connection
            return self.execute(sql, params)
        reader: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if reader is None:
            reader = sqlite3.connect(self._path, check_same_thread=False, timeout=30)
            reader.row_factory = sqlite3.Row
            self._local.conn = reader
            with self._readers_lock:
                self._readers.append(reader)
        return [dict(r) for r in reader.execute(sql, tuple(params)).fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, tuple(params))
            rows = [dict(r) for r in cur.fetchall()]
            self._conn.commit()
            return rows

    def close(self) -> None:
        self._conn.close()
        with self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()


class _PostgresSql:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        sql = sql.replace("?", "%s").replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        with self._pool.connection() as conn:
            cur = conn.execute(sql, tuple(params))
            return list(cur.fetchall()) if cur.description else []

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.execute(sql, params)  # each call takes a pooled connection: reads never queue

    def close(self) -> None:
        self._pool.close()


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS opsgraph_threads (
        thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, status TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS opsgraph_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, agent TEXT NOT NULL, tool TEXT NOT NULL,
        args TEXT NOT NULL, result TEXT NOT NULL, status TEXT NOT NULL, decision TEXT NOT NULL,
        actor TEXT NOT NULL, approver TEXT, at TEXT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS opsgraph_audit_thread ON opsgraph_audit (thread_id, id)",
)


class Store:
    """A checkpointer and the audit/thread tables that sit beside it."""

    def __init__(self, url: str, checkpointer: BaseCheckpointSaver[Any], sql: _Sql) -> None:
        self.url = url
        self.checkpointer = checkpointer
        self._sql = sql
        for statement in _SCHEMA:
            sql.execute(statement)

    # threads
    def touch_thread(self, thread_id: str, owner: str, title: str, status: str) -> ThreadInfo:
        now = utcnow()
        self._sql.execute(
            "INSERT INTO opsgraph_threads (thread_id, owner, title, created_at, updated_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET updated_at = ?, status = ?",
            (thread_id, owner, title[:200], now, now, status, now, status),
        )
        info = self.thread(thread_id)
        assert info is not None
        return info

    def thread(self, thread_id: str) -> ThreadInfo | None:
        rows = self._sql.query("SELECT * FROM opsgraph_threads WHERE thread_id = ?", (thread_id,))
        return ThreadInfo(**rows[0]) if rows else None

    def threads(self, owner: str | None = None, limit: int = 100) -> list[ThreadInfo]:
        where, params = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        rows = self._sql.query(
            f"SELECT * FROM opsgraph_threads {where} ORDER BY updated_at DESC LIMIT {int(limit)}", params
        )
        return [ThreadInfo(**r) for r in rows]

    # audit
    def record(self, entry: AuditEntry) -> None:
        self._sql.execute(
            "INSERT INTO opsgraph_audit (thread_id, agent, tool, args, result, status, decision, actor, approver,"
            " at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.thread_id, entry.agent, entry.tool, json.dumps(entry.args, default=str), entry.result,
                entry.status, entry.decision, entry.actor, entry.approver, entry.at, entry.duration_ms,
            ),
        )  # fmt: skip

    def audit(self, thread_id: str) -> list[AuditEntry]:
        rows = self._sql.query("SELECT * FROM opsgraph_audit WHERE thread_id = ? ORDER BY id", (thread_id,))
        return [AuditEntry(**{**r, "args": json.loads(r["args"])}) for r in rows]

    def close(self) -> None:
        self._sql.close()
        conn = getattr(self.checkpointer, "conn", None)
        if isinstance(conn, sqlite3.Connection):
            conn.close()


def _open_sqlite(url: str) -> Store:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.removeprefix("sqlite://")
    if path not in ("", ":memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path or ":memory:", check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across crashes of the process
        saver = SqliteSaver(conn)
        saver.setup()
        audit_conn = (
            conn if path in ("", ":memory:") else sqlite3.connect(path, check_same_thread=False, timeout=30)
        )
        audit_conn.execute("PRAGMA synchronous=NORMAL")  # per connection: as durable as the checkpoints
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open checkpoint database {url}: {exc}") from exc
    return Store(url, saver, _SqliteSql(audit_conn, path if path not in ("", ":memory:") else None))


def _open_postgres(url: str) -> Store:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=8,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    try:
        pool.open(wait=True, timeout=10)
        saver = PostgresSaver(cast("Any", pool))
        saver.setup()
    except Exception as exc:
        pool.close()
        raise StoreError(f"cannot open checkpoint database {url.split('@')[-1]}: {exc}") from exc
    return Store(url, saver, _PostgresSql(pool))


def open_store(url: str) -> Store:
    """Open (and create if needed) the store at `url`."""
    if url == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        return Store(url, InMemorySaver(), _SqliteSql(sqlite3.connect(":memory:", check_same_thread=False)))
    if url.startswith("sqlite:"):
        return _open_sqlite(url)
    if url.startswith(("postgres://", "postgresql://")):
        return _open_postgres(url)
    raise StoreError(f"unsupported checkpoint URL {url!r}: use memory, sqlite:///path or postgresql://...")


@contextmanager
def store_at(url: str) -> Iterator[Store]:
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
