"""PostgreSQL backend: psycopg 3 with a connection pool.

Server processes are stateless over it: run several against one database. Idempotency
holds across processes because the batch id and every natural key are unique indexes
(``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same key to settle).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

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
from mlvitals.store.urls import redact, scrub

# Any constant works; it only has to be the same for every mlvitals process.
_MIGRATION_LOCK = 0x6D6C7669


def _pg(sql: str) -> str:
    """Portable SQL (``?`` placeholders) to psycopg's ``%s`` style."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresStore:
    """The production store. ``url`` is a libpq URL: ``postgresql://user@host:5432/db``."""

    backend = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        try:
            # One direct connection first: it fails fast with libpq's own reason.
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise StoreError(
                scrub(f"cannot connect to PostgreSQL at {redact(url)}: {reason}", url)
            ) from None
        try:
            self._pool = ConnectionPool(
                url, min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": False}
            )
            self._pool.open(wait=True, timeout=10.0)
        except Exception as exc:
            raise StoreError(
                scrub(f"cannot connect to PostgreSQL at {redact(url)}: {exc}", url)
            ) from exc

    def migrate(self, migrations: Iterable[Migration] = ()) -> list[int]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                conn.execute(MIGRATIONS_TABLE)
                applied = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
                done = []
                for m in pending(applied, migrations):
                    for stmt in m.statements:
                        try:
                            conn.execute(stmt)
                        except psycopg.Error as exc:
                            raise MigrationError(
                                f"migration {m.version} ({m.name}) failed: {exc}"
                            ) from exc
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)"
                        " VALUES (%s, %s, %s)",
                        (m.version, m.name, time.time()),
                    )
                    done.append(m.version)
                return done
        except psycopg.Error as exc:
            raise StoreError(scrub(f"PostgreSQL migration failed: {exc}", self.url)) from exc

    def schema_version(self) -> int:
        rows = self.fetch("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        return int(rows[0]["v"])

    def write_batch(self, batch: Batch) -> BatchResult:
        accepted = sum(len(r) for r in batch.rows.values())
        try:
            with self._pool.connection() as conn, conn.transaction():
                cur = conn.execute(
                    "INSERT INTO ingest_batches"
                    " (batch_id, received_at, accepted, rejected, inserted)"
                    " VALUES (%s, %s, %s, %s, 0) ON CONFLICT DO NOTHING",
                    (batch.batch_id, batch.received_at, accepted, batch.rejected),
                )
                if cur.rowcount == 0:
                    return BatchResult(batch.batch_id, True, 0, 0)
                inserted = sum(_insert(conn, t, rows) for t, rows in batch.rows.items())
                for table, rows in batch.derived.items():
                    _insert(conn, table, rows)
                conn.execute(
                    "UPDATE ingest_batches SET inserted = %s WHERE batch_id = %s",
                    (inserted, batch.batch_id),
                )
                return BatchResult(batch.batch_id, False, inserted, accepted - inserted)
        except psycopg.Error as exc:
            raise StoreError(scrub(f"PostgreSQL write failed: {exc}", self.url)) from exc

    def insert(self, table: str, rows: Sequence[Row]) -> int:
        try:
            with self._pool.connection() as conn, conn.transaction():
                return _insert(conn, table, rows)
        except psycopg.Error as exc:
            raise StoreError(scrub(f"PostgreSQL write failed: {exc}", self.url)) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            with self._pool.connection() as conn, conn.transaction():
                return conn.execute(_pg(sql), tuple(params)).rowcount
        except psycopg.Error as exc:
            raise StoreError(scrub(f"PostgreSQL write failed: {exc}", self.url)) from exc

    def execute_many(self, sql: str, params: Sequence[Sequence[Any]]) -> int:
        if not params:
            return 0
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                cur.executemany(_pg(sql), [tuple(p) for p in params])
                return max(cur.rowcount, 0)
        except psycopg.Error as exc:
            raise StoreError(scrub(f"PostgreSQL write failed: {exc}", self.url)) from exc

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            with self._pool.connection() as conn:
                with conn.cursor(row_factory=dict_row) as cur:
                    cur.execute(_pg(sql), tuple(params))
                    rows = cur.fetchall()
                conn.rollback()
                return rows
        except psycopg.Error as exc:
            raise StoreError(scrub(f"PostgreSQL query failed: {exc}", self.url)) from exc

    def close(self) -> None:
        self._pool.close()


def _insert(conn: psycopg.Connection[Any], table: str, rows: Sequence[Row]) -> int:
    if not rows:
        return 0
    columns = [check_identifier(c) for c in rows[0]]
    sql = _pg(insert_sql(check_identifier(table), columns))
    with conn.cursor() as cur:
        cur.executemany(sql, list(map(row_values(columns), rows)))
        return max(cur.rowcount, 0)
