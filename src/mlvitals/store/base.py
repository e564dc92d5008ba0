"""The Store protocol shared by the SQLite and PostgreSQL backends.

SQL handed to a store is portable: ``?`` placeholders, types and clauses both SQLite and
PostgreSQL accept (``BIGINT``, ``DOUBLE PRECISION``, ``TEXT``, ``ON CONFLICT DO NOTHING``).
Table and column names always come from code, never from a request.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlvitals.errors import ConfigError
from mlvitals.store.migrations.base import Migration

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Batch:
    """Validated records of one ingest request, grouped by table.

    ``rows`` maps a table name to rows with identical keys; a row whose natural key is
    already stored is skipped, so re-sending a record never double-counts.

    ``derived`` maps a table name to rows derived from the records (such as marks of the
    periods a rollup pass must re-roll): stored in the same transaction, skipped where their
    key exists, and not counted as records in the result.
    """

    batch_id: str
    received_at: float
    rows: Mapping[str, Sequence[Row]] = field(default_factory=dict)
    rejected: int = 0
    derived: Mapping[str, Sequence[Row]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a write did: ``duplicate`` when the batch id was seen before (nothing written)."""

    batch_id: str
    duplicate: bool
    inserted: int
    already_stored: int


class Store(Protocol):
    """What the server, the CLI and background loops need from a database."""

    backend: str

    def migrate(self, migrations: Iterable[Migration] = ()) -> list[int]:
        """Apply the foundation's and ``migrations``' pending migrations; return the versions
        applied now."""
        ...

    def schema_version(self) -> int:
        """The highest migration version applied."""
        ...

    def write_batch(self, batch: Batch) -> BatchResult:
        """Store a batch atomically and durably; idempotent by batch id and natural keys."""
        ...

    def insert(self, table: str, rows: Sequence[Row]) -> int:
        """Insert rows, skipping those whose natural key exists; return the number inserted."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one portable write statement in its own transaction; return rows affected."""
        ...

    def execute_many(self, sql: str, params: Sequence[Sequence[Any]]) -> int:
        """Run one portable write statement for each parameter tuple, in one transaction."""
        ...

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one portable read query; rows come back as dicts."""
        ...

    def close(self) -> None:
        """Finish pending writes and release connections."""
        ...


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_store(
    url: str,
    *,
    pool_size: int = 8,
    migrate: bool = True,
    migrations: Iterable[Migration] = (),
) -> Store:
    """Open the store named by ``url``: a SQLite path (or ``sqlite:///path``) or a
    ``postgresql://`` URL. Unless ``migrate`` is false, the foundation's migrations and
    ``migrations`` (the server's areas pass theirs) are applied.
    """
    store: Store
    if is_postgres_url(url):
        try:
            from mlvitals.store.postgres import PostgresStore
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigError(
                "PostgreSQL support is not installed: pip install 'mlvitals[postgres]'"
            ) from exc
        store = PostgresStore(url, pool_size=pool_size)
    elif "://" in url and not url.startswith("sqlite://"):
        scheme = url.split("://", 1)[0]
        raise ConfigError(
            f"unsupported database URL scheme {scheme!r}: use a SQLite file path or postgresql://"
        )
    else:
        from mlvitals.store.sqlite import SQLiteStore

        # sqlite:///abs/path.db and sqlite://rel.db both name a file; a bare path works too.
        store = SQLiteStore(url.removeprefix("sqlite://"))
    if migrate:
        store.migrate(migrations)
    return store


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """Portable INSERT that skips rows whose natural key (a unique index) exists."""
    cols = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING"


def row_values(columns: Sequence[str]) -> Callable[[Row], tuple[Any, ...]]:
    """A function from a row to the tuple of its values in ``columns`` order (in C).

    >>> row_values(["a", "b"])({"b": 2, "a": 1})
    (1, 2)
    """
    if len(columns) == 1:
        (column,) = columns
        return lambda row: (row[column],)
    return operator.itemgetter(*columns)


def check_identifier(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name[:1].isalpha():
        raise ValueError(f"not a valid SQL identifier: {name!r}")
    return name
