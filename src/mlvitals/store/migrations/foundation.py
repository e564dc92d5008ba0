"""Migrations of the foundation: the ingest envelope and the serving tables."""

from mlvitals.store.migrations.base import Migration

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
                cpu_cores_allocated DOUBLE PRECISION,
                memory_allocated_bytes BIGINT,
                gpus TEXT NOT NULL,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (service, instance, time)
            )""",
            "CREATE INDEX instance_samples_time ON instance_samples (time)",
        ),
    ),
]
