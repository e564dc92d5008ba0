"""Migrations of serving monitoring: rollups of serving windows, and uptime probes."""

from mlvitals.store.migrations.base import Migration

MIGRATIONS: list[Migration] = [
    Migration(
        100,
        "serving rollups and probe results",
        (
            """CREATE TABLE serving_rollups (
                resolution BIGINT NOT NULL,
                service TEXT NOT NULL,
                version TEXT NOT NULL,
                operation TEXT NOT NULL,
                instance TEXT NOT NULL,
                start DOUBLE PRECISION NOT NULL,
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
                PRIMARY KEY (resolution, service, version, operation, instance, start)
            )""",
            "CREATE INDEX serving_rollups_start ON serving_rollups (resolution, start)",
            "CREATE INDEX serving_windows_service ON serving_windows (service, start)",
            "CREATE INDEX instance_samples_service ON instance_samples (service, time)",
            """CREATE TABLE rollup_state (
                resolution BIGINT PRIMARY KEY,
                final_until DOUBLE PRECISION NOT NULL,
                rolled_until DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE probe_results (
                target TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                ok BIGINT NOT NULL,
                status BIGINT,
                latency_seconds DOUBLE PRECISION,
                error TEXT,
                PRIMARY KEY (target, time)
            )""",
        ),
    ),
    Migration(
        101,
        "instance samples say when an instance stopped cleanly",
        ("ALTER TABLE instance_samples ADD COLUMN stopped BIGINT NOT NULL DEFAULT 0",),
    ),
    Migration(
        110,
        "marks of the minutes a rollup pass must re-roll",
        (
            """CREATE TABLE serving_rollup_marks (
                service TEXT NOT NULL,
                minute DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (service, minute)
            )""",
            "CREATE INDEX serving_rollup_marks_minute ON serving_rollup_marks (minute)",
            # Windows stored before this have no marks: the next pass rolls them all anew.
            "DELETE FROM rollup_state",
        ),
    ),
]
