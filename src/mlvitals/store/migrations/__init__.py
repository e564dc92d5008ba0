"""Versioned schema migrations, in portable SQL that SQLite and PostgreSQL both run.

Each area keeps its migrations in its own module and version range (see
:class:`~mlvitals.store.migrations.base.Migration`); add a module's list to ``MIGRATIONS``.
Never edit a migration that has shipped: append a new one.
"""

from __future__ import annotations

from mlvitals.store.migrations import alerts, cost, foundation, pipelines, quality, serving
from mlvitals.store.migrations.base import Migration

MIGRATIONS: list[Migration] = sorted(
    [
        *foundation.MIGRATIONS,
        *serving.MIGRATIONS,
        *quality.MIGRATIONS,
        *pipelines.MIGRATIONS,
        *cost.MIGRATIONS,
        *alerts.MIGRATIONS,
    ],
    key=lambda m: m.version,
)

MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""


def pending(applied: set[int]) -> list[Migration]:
    """Migrations not yet applied, in version order (areas may be applied out of order)."""
    versions = [m.version for m in MIGRATIONS]
    if len(versions) != len(set(versions)):
        raise RuntimeError("two migrations share a version")
    return [m for m in MIGRATIONS if m.version not in applied]


__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "Migration", "pending"]
