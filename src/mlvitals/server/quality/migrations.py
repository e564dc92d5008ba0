"""Migrations of data quality (versions 200-299).

Profiles and check results keep their whole versioned JSON next to the numbers that pages,
the API and alert rules read without parsing it; per-column drift has a table of its own,
indexed by (dataset, column, time), so the drift of one column over time is one query.
"""

from mlvitals.store.migrations.base import Migration

MIGRATIONS: list[Migration] = [
    Migration(
        200,
        "dataset profiles, check results and per-column drift",
        (
            """CREATE TABLE dataset_profiles (
                dataset TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                profile_id TEXT NOT NULL,
                run_id TEXT,
                step_id TEXT,
                source TEXT,
                rows BIGINT NOT NULL,
                column_count BIGINT NOT NULL,
                bytes BIGINT,
                profile TEXT NOT NULL,
                profile_bytes BIGINT NOT NULL,
                trimmed TEXT,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (dataset, time, profile_id)
            )""",
            """CREATE TABLE check_results (
                dataset TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                check_id TEXT NOT NULL,
                run_id TEXT,
                step_id TEXT,
                data_name TEXT NOT NULL,
                reference TEXT NOT NULL,
                passed BIGINT NOT NULL,
                dataset_drift BIGINT NOT NULL,
                drifted_share DOUBLE PRECISION NOT NULL,
                dataset_share DOUBLE PRECISION NOT NULL,
                columns_tested BIGINT NOT NULL,
                columns_drifted BIGINT NOT NULL,
                failure_count BIGINT NOT NULL,
                failures TEXT NOT NULL,
                rows BIGINT NOT NULL,
                reference_rows BIGINT NOT NULL,
                column_count BIGINT NOT NULL,
                bytes BIGINT,
                notes TEXT NOT NULL,
                result TEXT NOT NULL,
                result_bytes BIGINT NOT NULL,
                trimmed TEXT,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (dataset, time, check_id)
            )""",
            """CREATE TABLE check_drift (
                dataset TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                check_id TEXT NOT NULL,
                column_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                method TEXT NOT NULL,
                test TEXT,
                statistic DOUBLE PRECISION,
                p_value DOUBLE PRECISION,
                p_adjusted DOUBLE PRECISION,
                alpha DOUBLE PRECISION,
                effect TEXT,
                effect_size DOUBLE PRECISION,
                threshold DOUBLE PRECISION,
                drifted BIGINT NOT NULL,
                skipped BIGINT NOT NULL,
                route TEXT NOT NULL,
                n_reference BIGINT NOT NULL,
                n_current BIGINT NOT NULL,
                note TEXT,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (dataset, time, check_id, column_name)
            )""",
            "CREATE INDEX check_drift_column ON check_drift (dataset, column_name, time)",
        ),
    ),
]
