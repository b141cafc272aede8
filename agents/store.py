"""Where workflows persist: the LangGraph checkpointer plus our thread index, approvals and audit log, in one
database.

`memory` (tests), `sqlite:///path` (the default, a file under the data directory) or `postgresql://...`
(several server processes sharing threads). The thread, approval and audit tables live beside the
checkpoints. A thread's row says who runs it (a run token and a lease, see `agents.leases`); an approval's
row is where a decision is claimed, once, and where the gate records what became of it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, Field

from agents.leases import LEASE_S, gone_reason, run_alive
from agents.sql import PostgresSql, Sql, SqliteSql

__all__ = [
    "ApprovalRecord",
    "AuditEntry",
    "RunStart",
    "Store",
    "StoreError",
    "ThreadInfo",
    "open_store",
    "utcnow",
]


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
    status: str = "ok"  # ok | error | conflict | unknown | rejected | refused
    decision: str = "auto"  # auto | approved | rejected | edited | refused | not_asked
    actor: str = ""
    approver: str | None = None
    at: str = Field(default_factory=utcnow)
    duration_ms: float = 0.0
    approval_id: str | None = None
    """The approval this call ran under (gated calls): one execution per approval, at most."""
    precondition: dict[str, Any] | None = None
    """What the approved preview was computed from (a resourceVersion, a file's hash, a plan's inputs)."""
    observed: dict[str, Any] | None = None
    """What the write found and was made against, as the tool reports it (for `verifiers.approvals`)."""


class ThreadInfo(BaseModel):
    thread_id: str
    owner: str
    title: str
    created_at: str
    updated_at: str
    status: str = "idle"  # idle | running | interrupted | error
    reason: str | None = None
    """Why the thread is interrupted without an approval to answer (its run's process died)."""


class RunStart(NamedTuple):
    """The outcome of starting a run on a thread."""

    started: bool
    """False: another run, still alive, holds the thread."""
    recovered: str | None = None
    """When the run takes over from one whose process died: why that one stopped."""


class ApprovalRecord(BaseModel):
    """A request for approval as the gate showed it, and what became of it.

    status: pending (shown, undecided) -> claimed (a decision won the claim) -> executing (the gate runs
    the call) -> done (`outcome`: ok, error, conflict (nothing written: the target changed), unknown (its
    process died while executing it), rejected, edited).
    """

    id: str
    thread_id: str
    request: dict[str, Any]
    status: str = "pending"
    decision: dict[str, Any] | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    claim: str | None = None
    outcome: str | None = None
    result: str = ""
    created_at: str = ""
    updated_at: str = ""


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS opsgraph_threads (
        thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, status TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS opsgraph_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, agent TEXT NOT NULL, tool TEXT NOT NULL,
        args TEXT NOT NULL, result TEXT NOT NULL, status TEXT NOT NULL, decision TEXT NOT NULL,
        actor TEXT NOT NULL, approver TEXT, at TEXT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS opsgraph_audit_thread ON opsgraph_audit (thread_id, id)",
    """CREATE TABLE IF NOT EXISTS opsgraph_approvals (
        id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL,
        decision TEXT, decided_by TEXT, decided_at TEXT, claim TEXT, outcome TEXT, result TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS opsgraph_approvals_thread ON opsgraph_approvals (thread_id, status)",
)
# columns that tables created by an earlier version lack
_COLUMNS = (
    ("opsgraph_threads", "run_owner", "TEXT"),
    ("opsgraph_threads", "lease_until", "DOUBLE PRECISION"),
    ("opsgraph_threads", "reason", "TEXT"),
    ("opsgraph_audit", "approval_id", "TEXT"),
    ("opsgraph_audit", "precondition", "TEXT"),
    ("opsgraph_audit", "observed", "TEXT"),
)
_THREAD_FIELDS = set(ThreadInfo.model_fields)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def _loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


class Store:
    """A checkpointer and the thread, approval and audit tables that sit beside it."""

    def __init__(self, url: str, checkpointer: BaseCheckpointSaver[Any], sql: Sql) -> None:
        self.url = url
        self.checkpointer = checkpointer
        self._sql = sql
        sql.schema(_SCHEMA, _COLUMNS)

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

    @staticmethod
    def _info(row: dict[str, Any], now: float) -> ThreadInfo:
        info = ThreadInfo(**{k: v for k, v in row.items() if k in _THREAD_FIELDS})
        if info.status == "running" and not run_alive(row.get("run_owner"), row.get("lease_until"), now):
            reason = gone_reason(row.get("run_owner"), row.get("lease_until"))
            return info.model_copy(update={"status": "interrupted", "reason": reason})
        return info

    def thread(self, thread_id: str) -> ThreadInfo | None:
        rows = self._sql.query("SELECT * FROM opsgraph_threads WHERE thread_id = ?", (thread_id,))
        return self._info(rows[0], time.time()) if rows else None

    def threads(self, owner: str | None = None, limit: int = 100) -> list[ThreadInfo]:
        where, params = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        rows = self._sql.query(
            f"SELECT * FROM opsgraph_threads {where} ORDER BY updated_at DESC LIMIT {int(limit)}", params
        )
        now = time.time()
        return [self._info(r, now) for r in rows]

    # runs: who drives a thread
    def _take_run(
        self, thread_id: str, token: str, handover: str | None
    ) -> tuple[tuple[str, tuple[Any, ...]], str | None, str | None]:
        """The statement that makes `token` the thread's runner, given what the row says now; the reason
        the previous run stopped and its token, when it is taken over from a dead one. LookupError: a
        live run holds the thread."""
        rows = self._sql.query(
            "SELECT status, run_owner, lease_until FROM opsgraph_threads WHERE thread_id = ?", (thread_id,)
        )
        if not rows:
            raise KeyError(thread_id)
        status, holder, lease = rows[0]["status"], rows[0]["run_owner"], rows[0]["lease_until"]
        recovered = dead = None
        if handover is not None:
            if holder != handover:  # the claim's lease ran out and another run took the thread
                raise LookupError(holder)
        elif holder:  # a run holds it, or held it and never ended (its worker was lost, say)
            if status == "running" and run_alive(holder, lease):
                raise LookupError(holder)
            recovered, dead = gone_reason(holder, lease), holder
        statement = (
            "UPDATE opsgraph_threads SET status = 'running', run_owner = ?, lease_until = ?, reason = NULL,"
            " updated_at = ? WHERE thread_id = ? AND status = ? AND COALESCE(run_owner, '') = ?",
            (token, time.time() + LEASE_S, utcnow(), thread_id, status, holder or ""),
        )
        return statement, recovered, dead

    def _reopen_claims(self, thread_id: str, dead: str | None) -> None:
        """Decisions a dead run claimed but never executed are open again (only that run's: a live
        claim made since is kept)."""
        if dead:
            self._sql.execute(
                "UPDATE opsgraph_approvals SET status = 'pending', decision = NULL, decided_by = NULL,"
                " decided_at = NULL, claim = NULL, updated_at = ?"
                " WHERE thread_id = ? AND status = 'claimed' AND claim = ?",
                (utcnow(), thread_id, dead),
            )

    def begin_run(self, thread_id: str, token: str, *, handover: str | None = None) -> RunStart:
        """Make `token` the thread's runner: at once when no run holds it, or the one holding it is dead,
        or it is `handover` (the token an approval was claimed with, which `token` replaces). One process
        wins a race."""
        try:
            take, recovered, dead = self._take_run(thread_id, token, handover)
        except LookupError:
            return RunStart(False)
        self._reopen_claims(thread_id, dead)
        steps = [take]
        if handover is not None:
            steps.append(
                (
                    "UPDATE opsgraph_approvals SET claim = ?, updated_at = ?"
                    " WHERE thread_id = ? AND status = 'claimed' AND claim = ?",
                    (token, utcnow(), thread_id, handover),
                )
            )
        return RunStart(True, recovered) if self._sql.atomic(steps) else RunStart(False)

    def claim_approval(
        self, approval_id: str, thread_id: str, decision: dict[str, Any], by: str, token: str
    ) -> str:
        """Decide a pending approval and take its thread for the run that carries the decision out, in one
        transaction: `"claimed"` for exactly one of any number of callers at once (any process), else
        `"decided"` (someone decided it first) or `"busy"` (a live run holds the thread)."""
        record = self.approval(approval_id)
        if record is None or record.status not in ("pending", "claimed"):
            return "decided"
        try:
            take, _, dead = self._take_run(thread_id, token, None)
        except LookupError:  # a live run holds the thread: the one carrying this decision out, or another
            return self._why_not_claimed(approval_id)
        self._reopen_claims(thread_id, dead)
        claim = (
            "UPDATE opsgraph_approvals SET status = 'claimed', decision = ?, decided_by = ?, decided_at = ?,"
            " claim = ?, updated_at = ? WHERE id = ? AND thread_id = ? AND status = 'pending'",
            (_json(decision), by, utcnow(), token, utcnow(), approval_id, thread_id),
        )
        return "claimed" if self._sql.atomic([claim, take]) else self._why_not_claimed(approval_id)

    def _why_not_claimed(self, approval_id: str) -> str:
        record = self.approval(approval_id)
        return "busy" if record is not None and record.status == "pending" else "decided"

    def release_claim(self, thread_id: str, token: str) -> None:
        """Undo a claim whose run never started (its request went away first)."""
        self.end_run(thread_id, token, "interrupted")

    def renew_runs(self, tokens: Collection[str]) -> None:
        """Push the leases of these runs forward (the heartbeat of the process driving them)."""
        marks = ", ".join("?" for _ in tokens)
        self._sql.execute(
            f"UPDATE opsgraph_threads SET lease_until = ? WHERE status = 'running' AND run_owner IN ({marks})",
            (time.time() + LEASE_S, *tokens),
        )

    def end_run(self, thread_id: str, token: str, status: str, reason: str | None = None) -> None:
        """The run is over: the thread's status says how, no run holds it, and a decision it claimed but
        did not carry out (it failed before reaching the call) is open again."""
        self._reopen_claims(thread_id, token)
        self._sql.execute(
            "UPDATE opsgraph_threads SET status = ?, reason = ?, run_owner = NULL, lease_until = NULL,"
            " updated_at = ? WHERE thread_id = ? AND run_owner = ?",
            (status, reason, utcnow(), thread_id, token),
        )

    # approvals
    def add_approval(self, approval_id: str, thread_id: str, request: dict[str, Any]) -> ApprovalRecord:
        """Record a request for approval as shown (kept if one with this id is there already)."""
        now = utcnow()
        self._sql.execute(
            "INSERT INTO opsgraph_approvals (id, thread_id, request, status, result, created_at, updated_at)"
            " VALUES (?, ?, ?, 'pending', '', ?, ?) ON CONFLICT (id) DO NOTHING",
            (approval_id, thread_id, _json(request), now, now),
        )
        record = self.approval(approval_id)
        assert record is not None
        return record

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        rows = self._sql.query("SELECT * FROM opsgraph_approvals WHERE id = ?", (approval_id,))
        return self._approval(rows[0]) if rows else None

    def approvals(self, thread_id: str) -> list[ApprovalRecord]:
        rows = self._sql.query(
            "SELECT * FROM opsgraph_approvals WHERE thread_id = ? ORDER BY created_at, id", (thread_id,)
        )
        return [self._approval(r) for r in rows]

    @staticmethod
    def _approval(row: dict[str, Any]) -> ApprovalRecord:
        return ApprovalRecord(
            **{**row, "request": _loads(row["request"]), "decision": _loads(row["decision"])}
        )

    def start_execution(self, approval_id: str, token: str, decision: dict[str, Any]) -> bool:
        """Claim the right to execute an approved call: True for exactly one caller, ever."""
        return self._sql.atomic(
            [
                (
                    "UPDATE opsgraph_approvals SET status = 'executing', claim = COALESCE(claim, ?),"
                    " decision = COALESCE(decision, ?), updated_at = ?"
                    " WHERE id = ? AND status IN ('pending', 'claimed')",
                    (token, _json(decision), utcnow(), approval_id),
                )
            ]
        )

    def finish_approval(self, approval_id: str, outcome: str, result: str = "") -> None:
        """What became of the approval: ok, error, conflict (nothing written), rejected or edited."""
        self._sql.execute(
            "UPDATE opsgraph_approvals SET status = 'done', outcome = ?, result = ?, updated_at = ?"
            " WHERE id = ? AND status != 'done'",
            (outcome, result[:2000], utcnow(), approval_id),
        )

    # audit
    def record(self, entry: AuditEntry) -> None:
        self._sql.execute(
            "INSERT INTO opsgraph_audit (thread_id, agent, tool, args, result, status, decision, actor, approver,"
            " at, duration_ms, approval_id, precondition, observed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.thread_id, entry.agent, entry.tool, json.dumps(entry.args, default=str), entry.result,
                entry.status, entry.decision, entry.actor, entry.approver, entry.at, entry.duration_ms,
                entry.approval_id, _json(entry.precondition), _json(entry.observed),
            ),
        )  # fmt: skip

    def audit(self, thread_id: str) -> list[AuditEntry]:
        rows = self._sql.query("SELECT * FROM opsgraph_audit WHERE thread_id = ? ORDER BY id", (thread_id,))
        return [
            AuditEntry(
                **{
                    **r,
                    "args": json.loads(r["args"]),
                    "precondition": _loads(r.get("precondition")),
                    "observed": _loads(r.get("observed")),
                }
            )
            for r in rows
        ]

    def close(self) -> None:
        self._sql.close()
        conn = getattr(self.checkpointer, "conn", None)
        if isinstance(conn, sqlite3.Connection):
            conn.close()


SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a statement on the SQLite store waits for another process's lock before it fails."""


def _enter_wal(conn: sqlite3.Connection, timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> None:
    """Put the database in WAL mode, waiting for other processes that open it at the same moment.

    Changing the journal mode needs the database to itself and SQLite answers `database is locked` at
    once rather than waiting through the busy timeout: two servers starting together on a fresh file
    made one of them exit (seen in CI). Once one process has switched, the others find WAL already set.
    """
    deadline = time.monotonic() + timeout_s
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _open_sqlite(url: str) -> Store:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.removeprefix("sqlite://")
    if path not in ("", ":memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path or ":memory:", check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_S)
        _enter_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across crashes of the process
        saver = SqliteSaver(conn)
        saver.setup()
        audit_conn = (
            conn
            if path in ("", ":memory:")
            else sqlite3.connect(path, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_S)
        )
        audit_conn.execute("PRAGMA synchronous=NORMAL")  # per connection: as durable as the checkpoints
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open checkpoint database {url}: {exc}") from exc
    return Store(url, saver, SqliteSql(audit_conn, path if path not in ("", ":memory:") else None))


@contextmanager
def _setup_turn(pool: Any, timeout_s: float = 120.0) -> Iterator[None]:
    """One process at a time runs LangGraph's migrations (the lock PostgresSql.schema takes).

    Replicas starting together on a fresh database race them otherwise: a duplicate key in
    checkpoint_migrations ends one. The lock is polled, not waited for: a migration builds an index
    CONCURRENTLY, which waits for every open statement, a blocked `pg_advisory_lock` included.
    """
    with pool.connection() as conn:
        deadline = time.monotonic() + timeout_s
        while not conn.execute("SELECT pg_try_advisory_lock(7190521) AS ok").fetchone()["ok"]:
            if time.monotonic() > deadline:
                raise StoreError(f"another process held the schema lock for {timeout_s:g} s")
            time.sleep(0.2)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(7190521)")


POSTGRES_CONNECT_TIMEOUT_S = 3
"""How long opening a Postgres store waits for the server before it reports it unreachable."""


def _open_postgres(url: str) -> Store:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    # One plain connection first: an unreachable server is one clear error after a few seconds, where the
    # pool would retry for its whole timeout and log a warning per attempt.
    try:
        psycopg.connect(url, connect_timeout=POSTGRES_CONNECT_TIMEOUT_S).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StoreError(f"cannot open checkpoint database {url.split('@')[-1]}: {reason}") from exc
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
        with _setup_turn(pool):
            saver.setup()
    except Exception as exc:
        pool.close()
        raise StoreError(f"cannot open checkpoint database {url.split('@')[-1]}: {exc}") from exc
    return Store(url, saver, PostgresSql(pool))


def open_store(url: str) -> Store:
    """Open (and create if needed) the store at `url`."""
    if url == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        return Store(url, InMemorySaver(), SqliteSql(sqlite3.connect(":memory:", check_same_thread=False)))
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
