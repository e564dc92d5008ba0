"""Versioned schema migrations, in portable SQL that SQLite and PostgreSQL both run.

The store owns the foundation (the ingest envelope and serving tables); each server area
keeps its own migrations in ``mlvitals/server/<area>/migrations.py``, in its own version
range (see :class:`~mlvitals.store.migrations.base.Migration`), and the server passes them
to :func:`~mlvitals.store.open_store`. Never edit a migration that has shipped: append a new one.
"""

from __future__ import annotations

from collections.abc import Iterable

from mlvitals.store.migrations import foundation
from mlvitals.store.migrations.base import Migration

FOUNDATION: tuple[Migration, ...] = tuple(foundation.MIGRATIONS)

MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""


def pending(applied: set[int], extra: Iterable[Migration] = ()) -> list[Migration]:
    """The foundation's and ``extra``'s migrations not yet applied, in version order (areas
    may be applied out of order)."""
    every = sorted([*FOUNDATION, *extra], key=lambda m: m.version)
    versions = [m.version for m in every]
    if len(versions) != len(set(versions)):
        raise RuntimeError("two migrations share a version")
    return [m for m in every if m.version not in applied]


__all__ = ["FOUNDATION", "MIGRATIONS_TABLE", "Migration", "pending"]
