"""The Server page (``/server``): what the store holds and how fast records arrive.

``load_server`` makes the page's one store call (:func:`store_summary`); ``ingest_chart``
turns its per-minute rows into the chart series, with a zero for every quiet minute so
the bars show gaps in ingest as gaps.

>>> series = ingest_chart([{"minute": 540.0, "records": 7, "batches": 1}], now=600.0)
>>> len(series[0]["x"]), series[0]["y"][-2:]
(60, [7, 0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlvitals.server.deps import AppState
from mlvitals.server.summary import store_summary

MINUTES = 60


def ingest_chart(per_minute: Sequence[Mapping[str, Any]], now: float) -> list[dict[str, Any]]:
    """One bar series of records per minute over the last ``MINUTES`` whole minutes.

    Empty (no series) when nothing arrived in that time, so the chart shows its empty state.
    """
    last = int(now // 60) * 60
    minutes = [last - 60 * i for i in range(MINUTES - 1, -1, -1)]
    by_minute = {int(r["minute"]): int(r["records"]) for r in per_minute}
    records = [by_minute.get(m, 0) for m in minutes]
    if not any(by_minute.get(m) is not None for m in minutes):
        return []
    return [{"name": "records", "x": minutes, "y": records}]


def load_server(app: AppState) -> dict[str, Any]:
    """The Server page's context: :func:`store_summary`, the cardinality limits of this
    process and the ingest chart."""
    now = app.clock()
    summary = {**store_summary(app.store, now), "limits": app.limits()}
    per_minute = summary["ingest_per_minute"]
    return {
        "title": "Server",
        "summary": summary,
        "now": now,
        "last_hour": sum(int(r["records"]) for r in per_minute),
        "ingest_series": ingest_chart(per_minute, now),
        "tokens_enabled": app.tokens.enabled,
    }
