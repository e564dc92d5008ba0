"""Migrations of alerting (versions 500-599): alert states and their history, the
notification log and delivery log, silences, acknowledgements and the evaluator lease.

None of these tables receives ingested records: the server writes them itself.
"""

from mlvitals.store.migrations.base import Migration

MIGRATIONS: list[Migration] = [
    Migration(
        500,
        "alert states, transitions, notification and delivery logs, silences, acks, lease",
        (
            # One row per (rule, label set): the current episode, so a restart resumes it.
            """CREATE TABLE alert_states (
                rule TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                alert_id TEXT NOT NULL,
                labels TEXT NOT NULL,
                annotations TEXT NOT NULL,
                state TEXT NOT NULL,
                active_at DOUBLE PRECISION NOT NULL,
                fired_at DOUBLE PRECISION,
                resolved_at DOUBLE PRECISION,
                last_true_at DOUBLE PRECISION NOT NULL,
                keep_firing_since DOUBLE PRECISION,
                value DOUBLE PRECISION,
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (rule, fingerprint)
            )""",
            "CREATE INDEX alert_states_alert_id ON alert_states (alert_id)",
            """CREATE TABLE alert_transitions (
                alert_id TEXT NOT NULL,
                to_state TEXT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                from_state TEXT NOT NULL,
                rule TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                labels TEXT NOT NULL,
                value DOUBLE PRECISION,
                PRIMARY KEY (alert_id, to_state, time)
            )""",
            "CREATE INDEX alert_transitions_time ON alert_transitions (time)",
            # What each receiver integration last heard about each group.
            """CREATE TABLE alert_notify_log (
                receiver TEXT NOT NULL,
                integration TEXT NOT NULL,
                group_key TEXT NOT NULL,
                sent_at DOUBLE PRECISION NOT NULL,
                firing TEXT NOT NULL,
                PRIMARY KEY (receiver, integration, group_key)
            )""",
            """CREATE TABLE alert_deliveries (
                id TEXT PRIMARY KEY,
                time DOUBLE PRECISION NOT NULL,
                receiver TEXT NOT NULL,
                integration TEXT NOT NULL,
                target TEXT NOT NULL,
                group_key TEXT NOT NULL,
                status TEXT NOT NULL,
                alerts BIGINT NOT NULL,
                ok BIGINT NOT NULL,
                attempts BIGINT NOT NULL,
                http_status BIGINT,
                error TEXT,
                seconds DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX alert_deliveries_time ON alert_deliveries (time)",
            """CREATE TABLE alert_silences (
                id TEXT PRIMARY KEY,
                matchers TEXT NOT NULL,
                starts_at DOUBLE PRECISION NOT NULL,
                ends_at DOUBLE PRECISION NOT NULL,
                created_by TEXT NOT NULL,
                comment TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE alert_acks (
                alert_id TEXT PRIMARY KEY,
                acked_at DOUBLE PRECISION NOT NULL,
                acked_by TEXT NOT NULL,
                comment TEXT NOT NULL
            )""",
            """CREATE TABLE alert_rule_health (
                rule TEXT PRIMARY KEY,
                evaluated_at DOUBLE PRECISION NOT NULL,
                seconds DOUBLE PRECISION NOT NULL,
                samples BIGINT NOT NULL,
                error TEXT
            )""",
            # Only the process holding the lease evaluates and notifies, so N servers over
            # one PostgreSQL database send each notification once.
            """CREATE TABLE alert_lease (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    # Where each alert leads (mlvitals.alerts.links); alerts stored before have none and
    # get one from their labels when shown.
    Migration(
        501,
        "alert links",
        (
            "ALTER TABLE alert_states ADD COLUMN link TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE alert_transitions ADD COLUMN link TEXT NOT NULL DEFAULT ''",
        ),
    ),
]
