"""Migrations of pipeline monitoring (versions 300-399).

Run and step tables hold events, one row per (run, step, event, time): ingestion never
updates a row, and a run's state is folded from its events when read.
"""

from mlvitals.store.migrations.base import Migration

_ERROR_AND_RESOURCES = """
                error_type TEXT,
                error_message TEXT,
                traceback TEXT,
                cpu_seconds DOUBLE PRECISION,
                peak_rss_bytes BIGINT,
                gpu_seconds DOUBLE PRECISION,
                wall_seconds DOUBLE PRECISION,"""

MIGRATIONS: list[Migration] = [
    Migration(
        300,
        "pipeline runs, steps, dataset references, environments, pipeline configs",
        (
            f"""CREATE TABLE run_events (
                run_id TEXT NOT NULL,
                event TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                pipeline TEXT NOT NULL,
                namespace TEXT NOT NULL,
                run_kind TEXT,
                trigger TEXT,
                scheduled_at DOUBLE PRECISION,
                parent_run_id TEXT,
                params TEXT,
                environment_hash TEXT,{_ERROR_AND_RESOURCES}
                model_version TEXT,
                service TEXT,
                serving_version TEXT,
                host TEXT,
                pid BIGINT,
                source TEXT NOT NULL,
                facets TEXT,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (run_id, event, time)
            )""",
            "CREATE INDEX run_events_pipeline ON run_events (pipeline, time)",
            "CREATE INDEX run_events_time ON run_events (time)",
            f"""CREATE TABLE step_events (
                run_id TEXT NOT NULL,
                step_id TEXT NOT NULL,
                event TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                name TEXT NOT NULL,
                parent_step_id TEXT,{_ERROR_AND_RESOURCES}
                host TEXT,
                pid BIGINT,
                source TEXT NOT NULL,
                facets TEXT,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (run_id, step_id, event, time)
            )""",
            """CREATE TABLE dataset_refs (
                run_id TEXT NOT NULL,
                step_id TEXT NOT NULL,
                direction TEXT NOT NULL,
                event TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                namespace TEXT NOT NULL,
                name TEXT NOT NULL,
                format TEXT,
                file_count BIGINT,
                file_types TEXT,
                bytes BIGINT,
                rows BIGINT,
                schema_json TEXT,
                files TEXT,
                files_truncated BIGINT NOT NULL,
                quality TEXT,
                facets TEXT,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (run_id, step_id, direction, namespace, name, event)
            )""",
            """CREATE TABLE environments (
                hash TEXT PRIMARY KEY,
                python TEXT NOT NULL,
                implementation TEXT NOT NULL,
                platform TEXT NOT NULL,
                packages TEXT NOT NULL,
                captured_at DOUBLE PRECISION,
                batch_id TEXT NOT NULL
            )""",
            """CREATE TABLE pipeline_configs (
                pipeline TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                schedule TEXT,
                timezone TEXT NOT NULL,
                grace_seconds DOUBLE PRECISION NOT NULL,
                max_duration_seconds DOUBLE PRECISION,
                history BIGINT NOT NULL,
                batch_id TEXT NOT NULL,
                PRIMARY KEY (pipeline, time)
            )""",
        ),
    ),
]
