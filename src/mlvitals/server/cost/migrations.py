"""Migrations of cost (versions 400-499): hourly usage rollups, their state, and budgets.

The rollups keep, per hour, what cost needs from serving windows and instance samples, so a
month of cost reads a few hundred rows instead of millions, and outlives the retention of
raw windows and samples.
"""

from mlvitals.store.migrations.base import Migration

MIGRATIONS: list[Migration] = [
    Migration(
        400,
        "cost usage rollups and budgets",
        (
            """CREATE TABLE cost_serving_hours (
                service TEXT NOT NULL,
                version TEXT NOT NULL,
                operation TEXT NOT NULL,
                instance TEXT NOT NULL,
                hour DOUBLE PRECISION NOT NULL,
                calls BIGINT NOT NULL,
                cpu_seconds DOUBLE PRECISION NOT NULL,
                gpu_busy_seconds DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (service, version, operation, instance, hour)
            )""",
            "CREATE INDEX cost_serving_hours_hour ON cost_serving_hours (hour)",
            """CREATE TABLE cost_instance_hours (
                service TEXT NOT NULL,
                version TEXT NOT NULL,
                instance TEXT NOT NULL,
                hour DOUBLE PRECISION NOT NULL,
                up_seconds DOUBLE PRECISION NOT NULL,
                core_seconds DOUBLE PRECISION NOT NULL,
                cores_unknown_seconds DOUBLE PRECISION NOT NULL,
                memory_byte_seconds DOUBLE PRECISION NOT NULL,
                memory_unknown_seconds DOUBLE PRECISION NOT NULL,
                rss_byte_seconds DOUBLE PRECISION NOT NULL,
                gpus TEXT NOT NULL,
                PRIMARY KEY (service, version, instance, hour)
            )""",
            "CREATE INDEX cost_instance_hours_hour ON cost_instance_hours (hour)",
            """CREATE TABLE cost_rollup_state (
                name TEXT PRIMARY KEY,
                final_until DOUBLE PRECISION NOT NULL,
                rolled_until DOUBLE PRECISION NOT NULL,
                rolled_at DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE cost_budgets (
                name TEXT PRIMARY KEY,
                scope TEXT NOT NULL,
                subject TEXT NOT NULL,
                period TEXT NOT NULL,
                limit_amount DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
]
