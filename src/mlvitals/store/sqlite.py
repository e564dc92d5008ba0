"""SQLite backend: one file, WAL mode, one writer thread, readers on their own connections.

Writes go through a queue to a single writer thread. The writer drains whatever is queued
and commits it in one transaction (group commit), each job under its own savepoint so a
failing job never takes the others with it. A caller's write returns only after the commit
(``synchronous=FULL``: a committed batch survives a crash of the process or the machine).

Checkpoints (copying the write-ahead log into the database file) are taken off the write
path: the writer's automatic checkpoints are off, and a checkpointer thread on a connection
of its own runs a passive checkpoint whenever the log has grown past
:data:`CHECKPOINT_BYTES`. A passive checkpoint never blocks the writer, and the log stays
the durable record until it is copied, so nothing committed is at risk.
"""

from __future__ import annotations

import math
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from mlvitals.errors import MigrationError, StoreError
from mlvitals.store.base import (
    Batch,
    BatchResult,
    Row,
    check_identifier,
    insert_sql,
    row_values,
)
from mlvitals.store.migrations import MIGRATIONS_TABLE, Migration, pending

T = TypeVar("T")
_Job = tuple[Callable[[sqlite3.Connection], Any], "Future[Any]"]
_STOP = object()
_MAX_GROUP = 64
CHECKPOINT_BYTES = 4 << 20
"""Write-ahead log size past which the checkpointer copies it into the database file."""
_CHECKPOINT_EVERY = 0.2  # seconds between looks at the log's size


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    # Not every SQLite build has the math functions; queries rely on FLOOR being there.
    conn.create_function("floor", 1, _floor, deterministic=True)
    return conn


def _floor(value: float | None) -> int | None:
    return None if value is None else math.floor(value)


class SQLiteStore:
    """The embedded default store.

    >>> store = SQLiteStore(":memory:")
    >>> store.migrate()[:1]
    [1]
    >>> store.fetch("SELECT COUNT(*) AS n FROM ingest_batches")
    [{'n': 0}]
    >>> store.close()
    """

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            parent = Path(self.path).parent
            if not parent.exists():
                raise StoreError(f"cannot create database {self.path}: {parent} does not exist")
        try:
            self._writer_conn = _connect(self.path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._memory = self.path == ":memory:"
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name="mlvitals-sqlite-writer", daemon=True
        )
        self._checkpoints = threading.Event()  # set: stop checkpointing
        self._checkpointer: threading.Thread | None = None
        if not self._memory:
            self._writer_conn.execute("PRAGMA wal_autocheckpoint=0")
            self._writer_conn.execute(f"PRAGMA journal_size_limit={4 * CHECKPOINT_BYTES}")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="mlvitals-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()
        self._thread.start()

    def _checkpoint_loop(self) -> None:
        wal = Path(self.path + "-wal")
        conn: sqlite3.Connection | None = None
        try:
            while not self._checkpoints.wait(_CHECKPOINT_EVERY):
                try:
                    size = wal.stat().st_size
                except OSError:
                    continue
                if size < CHECKPOINT_BYTES:
                    continue
                try:
                    if conn is None:
                        conn = _connect(self.path)
                    # Passive: copy what is committed, never wait. A log that still grew
                    # (the writer never paused) gets a restart checkpoint, which waits for
                    # the writer's transaction to end so that the next one starts the log
                    # afresh; its frames are mostly copied already, so the wait is short.
                    mode = "RESTART" if size > 16 * CHECKPOINT_BYTES else "PASSIVE"
                    conn.execute(f"PRAGMA wal_checkpoint({mode})")
                except sqlite3.Error:
                    # Busy or short of disk: the log keeps everything; try again later.
                    time.sleep(_CHECKPOINT_EVERY)
        finally:
            if conn is not None:
                conn.close()

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        conn = self._writer_conn
        while True:
            first = self._queue.get()
            if first is _STOP:
                break
            jobs: list[_Job] = [first]  # type: ignore[list-item]
            stop_after = False
            while len(jobs) < _MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop_after = True
                    break
                jobs.append(nxt)  # type: ignore[arg-type]
            self._commit_group(conn, jobs)
            if stop_after:
                break
        conn.close()

    def _commit_group(self, conn: sqlite3.Connection, jobs: list[_Job]) -> None:
        results: list[tuple[Future[Any], bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, fut in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    value = fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    results.append((fut, False, exc))
                else:
                    conn.execute("RELEASE job")
                    results.append((fut, True, value))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            err = StoreError(f"SQLite write failed: {exc}")
            for _, fut in jobs:
                fut.set_exception(err)
            return
        for fut, ok, value in results:
            if ok:
                fut.set_result(value)
            elif isinstance(value, sqlite3.Error):
                fut.set_exception(StoreError(f"SQLite write failed: {value}"))
            else:
                fut.set_exception(value)

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreError("the store is closed")
        fut: Future[T] = Future()
        self._queue.put((fn, fut))
        return fut.result()

    # -- readers -------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        if self._memory:
            # An in-memory database lives in one connection: read through the writer.
            return self._writer_conn
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    # -- Store protocol ------------------------------------------------------------------

    def migrate(self, migrations: Iterable[Migration] = ()) -> list[int]:
        def apply(conn: sqlite3.Connection) -> list[int]:
            conn.execute(MIGRATIONS_TABLE)
            applied = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            done = []
            for m in pending(applied, migrations):
                try:
                    for stmt in m.statements:
                        conn.execute(stmt)
                except sqlite3.Error as exc:
                    raise MigrationError(f"migration {m.version} ({m.name}) failed: {exc}") from exc
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.name, time.time()),
                )
                done.append(m.version)
            return done

        return self._write(apply)

    def schema_version(self) -> int:
        rows = self.fetch("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        return int(rows[0]["v"])

    def write_batch(self, batch: Batch) -> BatchResult:
        def apply(conn: sqlite3.Connection) -> BatchResult:
            accepted = sum(len(r) for r in batch.rows.values())
            cur = conn.execute(
                "INSERT INTO ingest_batches (batch_id, received_at, accepted, rejected, inserted)"
                " VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                (batch.batch_id, batch.received_at, accepted, batch.rejected),
            )
            if cur.rowcount == 0:
                return BatchResult(batch.batch_id, True, 0, 0)
            inserted = sum(_insert(conn, t, rows) for t, rows in batch.rows.items())
            for table, rows in batch.derived.items():
                _insert(conn, table, rows)
            conn.execute(
                "UPDATE ingest_batches SET inserted = ? WHERE batch_id = ?",
                (inserted, batch.batch_id),
            )
            return BatchResult(batch.batch_id, False, inserted, accepted - inserted)

        return self._write(apply)

    def insert(self, table: str, rows: Sequence[Row]) -> int:
        return self._write(lambda conn: _insert(conn, table, rows))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._write(lambda conn: conn.execute(sql, tuple(params)).rowcount)

    def execute_many(self, sql: str, params: Sequence[Sequence[Any]]) -> int:
        def apply(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(sql, [tuple(p) for p in params])
            return conn.total_changes - before

        return self._write(apply)

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if self._memory:
            return self._write(lambda conn: _fetch(conn, sql, params))
        try:
            return _fetch(self._reader(), sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite query failed: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        self._queue.put(_STOP)
        self._thread.join()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()


def _insert(conn: sqlite3.Connection, table: str, rows: Sequence[Row]) -> int:
    if not rows:
        return 0
    columns = [check_identifier(c) for c in rows[0]]
    sql = insert_sql(check_identifier(table), columns)
    before = conn.total_changes
    conn.executemany(sql, list(map(row_values(columns), rows)))
    return conn.total_changes - before


def _fetch(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Row]:
    cur = conn.execute(sql, tuple(params))
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
