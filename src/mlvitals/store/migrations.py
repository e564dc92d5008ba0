"""Versioned schema migrations, in portable SQL that SQLite and PostgreSQL both run.

Append a new :class:`Migration` to ``MIGRATIONS`` for every schema change; never edit one
that has shipped. Each migration runs in one transaction and is recorded in
``schema_migrations``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "ingest envelope and serving records",
        (
            """CREATE TABLE ingest_batches (
                batch_id TEXT PRIMARY KEY,
                received_at DOUBLE PRECISION NOT NULL,
                accepted BIGINT NOT NULL,
                rejected BIGINT NOT NULL,
                inserted BIGINT NOT NULL
            )""",
            "CREATE INDEX ingest_batches_received ON ingest_batches (received_at)",
            """CREATE TABLE serving_windows (
                service TEXT NOT NULL,
                version TEXT NOT NULL,
                operation TEXT NOT NULL,
                instance TEXT NOT NULL,
                start DOUBLE PRECISION NOT NULL,
                length DOUBLE PRECISION NOT NULL,
                calls BIGINT NOT NULL,
                errors BIGINT NOT NULL,
                client_errors BIGINT NOT NULL,
                failures TEXT NOT NULL,
                latency TEXT NOT NULL,
                cpu TEXT NOT NULL,
                cpu_seconds DOUBLE PRECISION NOT NULL,
                peak_rss_bytes BIGINT,
                gpu_busy_seconds DOUBLE PRECISION,
                gpu_peak_memory_bytes BIGINT,
                peak_in_flight BIGINT NOT NULL,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (service, version, operation, instance, start)
            )""",
            "CREATE INDEX serving_windows_start ON serving_windows (start)",
            """CREATE TABLE instance_samples (
                service TEXT NOT NULL,
                version TEXT NOT NULL,
                instance TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                process_start DOUBLE PRECISION,
                cpu_percent DOUBLE PRECISION,
                rss_bytes BIGINT,
                host_memory_used_bytes BIGINT,
                host_memory_total_bytes BIGINT,
                open_fds BIGINT,
                gpus TEXT NOT NULL,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (service, instance, time)
            )""",
            "CREATE INDEX instance_samples_time ON instance_samples (time)",
        ),
    ),
]


def pending(applied: set[int]) -> list[Migration]:
    """Migrations not yet applied, in version order."""
    versions = [m.version for m in MIGRATIONS]
    if versions != sorted(set(versions)):
        raise RuntimeError("MIGRATIONS must have unique, increasing versions")
    return [m for m in MIGRATIONS if m.version not in applied]


MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""
