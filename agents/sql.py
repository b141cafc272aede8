"""The SQL the store runs beside the checkpointer, on SQLite or Postgres, behind one small protocol.

Besides plain statements, `atomic` runs several conditional statements in one transaction and keeps
them only if each changed a row: what deciding an approval or taking over a thread's run needs, so that
of two processes that try at once exactly one succeeds (SQLite: `BEGIN IMMEDIATE` takes the database's
write lock; Postgres: the second UPDATE of a row waits for the first transaction, then re-checks its
WHERE clause against the committed row).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["PostgresSql", "Sql", "SqliteSql", "Statement"]

Statement = tuple[str, Sequence[Any]]


class Sql(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """A read only: it may go through another connection than the writes."""
        ...

    def atomic(self, steps: Sequence[Statement]) -> bool:
        """Run `steps` in one transaction; keep them only if every one changed at least one row."""
        ...

    def schema(self, statements: Sequence[str], columns: Sequence[tuple[str, str, str]]) -> None:
        """Create the tables (`CREATE ... IF NOT EXISTS`) and add the (table, column, type) `columns` that
        tables made by an older version lack; safe when several processes start at once."""
        ...

    def close(self) -> None: ...


class SqliteSql:
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

    def atomic(self, steps: Sequence[Statement]) -> bool:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")  # the write lock first: no upgrade deadlock
                for sql, params in steps:
                    if self._conn.execute(sql, tuple(params)).rowcount < 1:
                        self._conn.rollback()
                        return False
                self._conn.commit()
                return True
            except BaseException:
                self._conn.rollback()
                raise

    def schema(self, statements: Sequence[str], columns: Sequence[tuple[str, str, str]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")  # one process at a time
            try:
                for statement in statements:
                    self._conn.execute(statement)
                for table, column, kind in columns:
                    have = {r["name"] for r in self._conn.execute(f"PRAGMA table_info({table})")}
                    if column not in have:
                        self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise

    def close(self) -> None:
        self._conn.close()
        with self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()


def _pg(sql: str) -> str:
    return sql.replace("?", "%s").replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")


class _NoRowChangedError(Exception):
    """A step of an atomic group changed no row: the transaction is rolled back."""


class PostgresSql:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._pool.connection() as conn:
            cur = conn.execute(_pg(sql), tuple(params))
            return list(cur.fetchall()) if cur.description else []

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.execute(sql, params)  # each call takes a pooled connection: reads never queue

    def atomic(self, steps: Sequence[Statement]) -> bool:
        with self._pool.connection() as conn:
            try:
                with conn.transaction():
                    for sql, params in steps:
                        if conn.execute(_pg(sql), tuple(params)).rowcount < 1:
                            raise _NoRowChangedError
            except _NoRowChangedError:
                return False
            return True

    def schema(self, statements: Sequence[str], columns: Sequence[tuple[str, str, str]]) -> None:
        with self._pool.connection() as conn, conn.transaction():
            # concurrent CREATE/ALTER of one table can fail on the catalog's unique keys: take turns
            conn.execute("SELECT pg_advisory_xact_lock(7190521)")
            for statement in statements:
                conn.execute(_pg(statement))
            for table, column, kind in columns:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")

    def close(self) -> None:
        self._pool.close()
