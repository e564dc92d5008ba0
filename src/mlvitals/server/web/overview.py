"""The overview page: what the store holds and how fast records arrive.

``load_overview`` makes the page's one store call (:func:`store_summary`); ``ingest_chart``
turns its per-minute rows into the chart series, with a zero for every quiet minute so
the bars show gaps in ingest as gaps.

>>> series = ingest_chart([{"minute": 540.0, "records": 7, "batches": 1}], now=600.0)
>>> len(series[0]["x"]), series[0]["y"][-2:]
(60, [7, 0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlvitals.errors import HTTPError
from mlvitals.server.cost import pages as cost_page
from mlvitals.server.deps import AppState
from mlvitals.server.pipelines import pages as pipelines
from mlvitals.server.serving.pages import service_path
from mlvitals.server.serving.queries import services_health
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


def load_overview(app: AppState) -> dict[str, Any]:
    """The overview template's context: :func:`store_summary` and each service's health."""
    now = app.clock()
    summary = {**store_summary(app.store, now), "limits": app.limits()}
    per_minute = summary["ingest_per_minute"]
    services = services_health(app.store, now, down_after=app.settings.down_after)
    for entry in services:
        entry["url"] = service_path(entry["service"])
    return {
        "title": "Overview",
        "summary": summary,
        "now": now,
        "last_hour": sum(int(r["records"]) for r in per_minute),
        "ingest_series": ingest_chart(per_minute, now),
        "tokens_enabled": app.tokens.enabled,
        "services": services,
        "pipelines_glance": pipelines.glance(app),
        "cost_glance": _cost_glance(app),
    }


def _cost_glance(app: AppState) -> dict[str, Any] | None:
    """The month's cost, or ``None`` when the rate card or budgets file cannot be read (the
    Cost page says why; the overview still shows everything else)."""
    try:
        return cost_page.glance(app)
    except HTTPError:
        return None
