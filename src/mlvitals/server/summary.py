"""What the store holds, for the overview page and ``GET /api/v1/summary``."""

from __future__ import annotations

from typing import Any

from mlvitals.server.areas import RECORD_KINDS
from mlvitals.store import Store

_HOUR = 3600.0


def store_summary(store: Store, now: float) -> dict[str, Any]:
    """Records per kind, batches in total, and records ingested per minute over the last hour."""
    kinds = []
    for name, spec in sorted(RECORD_KINDS.items()):
        rows = store.fetch(f"SELECT COUNT(*) AS n FROM {spec.table}")
        kinds.append({"kind": name, "table": spec.table, "records": int(rows[0]["n"])})
    totals = store.fetch(
        "SELECT COUNT(*) AS batches, COALESCE(SUM(inserted), 0) AS records,"
        " MAX(received_at) AS last FROM ingest_batches"
    )[0]
    since = now - _HOUR
    per_minute = store.fetch(
        "SELECT CAST(FLOOR(received_at / 60) AS BIGINT) * 60 AS minute,"
        " SUM(inserted) AS records, COUNT(*) AS batches"
        " FROM ingest_batches WHERE received_at >= ?"
        " GROUP BY CAST(FLOOR(received_at / 60) AS BIGINT) ORDER BY minute",
        (since,),
    )
    return {
        "backend": store.backend,
        "schema_version": store.schema_version(),
        "kinds": kinds,
        "batches": int(totals["batches"]),
        "records": int(totals["records"]),
        "last_ingest": totals["last"],
        "ingest_per_minute": [
            {
                "minute": float(r["minute"]),
                "records": int(r["records"]),
                "batches": int(r["batches"]),
            }
            for r in per_minute
        ],
    }
