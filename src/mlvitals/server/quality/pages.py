"""The Datasets pages: every dataset's latest check, and one page per dataset.

``GET /datasets`` lists every dataset with a stored profile or check: the latest check's
verdict, drifted columns and failed checks, and the size of the latest data.
``GET /datasets/{name}?range=30d&check=ID`` shows one check (the latest by default): its
failed validation checks with samples, the drift of each column, the reference and current
distribution of each column, and, over the range, the drift of each column and the rows and
size of the data. Pages read what ``GET /api/v1/datasets/...`` returns
(:mod:`mlvitals.server.quality.queries`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.errors import NotFound
from mlvitals.server.alerts.queries import alerts_about
from mlvitals.server.deps import AppState
from mlvitals.server.quality import queries, view
from mlvitals.server.quality.histograms import column_histograms
from mlvitals.server.web import units
from mlvitals.server.web.render import ENV, page, render
from mlvitals.server.web.sections import SECTIONS
from mlvitals.server.web.timeline import what_changed

router: APIRouter = APIRouter(include_in_schema=False)
ENV.filters.update(units.FILTERS)
ENV.filters["stat"] = view.stat
ENV.filters["sample"] = view.sample
ENV.globals["check_labels"] = view.CHECK_LABELS

RANGES = {"7d": 7 * 86400.0, "30d": 30 * 86400.0, "90d": 90 * 86400.0}
RANGE_LABELS = {"7d": "last 7 days", "30d": "last 30 days", "90d": "last 90 days"}
DEFAULT_RANGE = "30d"
RECENT_CHECKS = 20

_SECTION = next(s for s in SECTIONS if s.path == "/datasets")

EXAMPLE = """\
import pandas as pd
from mlvitals import Monitor

monitor = Monitor("nightly-etl", server="{base}"{token})
reference = pd.read_parquet("data/reference.parquet")
today = pd.read_parquet("data/today.parquet")
result = monitor.check(today, reference=reference, dataset="features")   # or reference="ref.json"
print(result.summary())
monitor.close()"""


def example(base_url: str, tokens_enabled: bool) -> str:
    token = ', token="YOUR_INGEST_TOKEN"' if tokens_enabled else ""
    return EXAMPLE.format(base=base_url.rstrip("/"), token=token)


@dataclass(frozen=True, slots=True)
class PageQuery:
    """``range`` (of the charts over time) and ``check`` (the check shown; the latest)."""

    range: str = DEFAULT_RANGE
    check: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> PageQuery:
        """
        >>> PageQuery.parse({"range": "1y", "check": ""})
        PageQuery(range='30d', check=None)
        """
        chosen = params.get("range", DEFAULT_RANGE)
        return cls(chosen if chosen in RANGES else DEFAULT_RANGE, params.get("check") or None)


def load_datasets(app: AppState, base_url: str) -> dict[str, Any]:
    datasets = queries.list_datasets(app.store)
    return {
        "title": "Datasets",
        "section": _SECTION,
        "datasets": view.order_datasets(datasets),
        "totals": view.list_totals(datasets),
        "example": "" if datasets else example(base_url, app.tokens.enabled),
        "api_url": "/api/v1/datasets",
        "now": app.clock(),
    }


def _distributions(
    app: AppState, name: str, check: dict[str, Any] | None, doc: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], int, dict[str, Any] | None]:
    """Histogram charts of the shown check, else of the latest profile (current only)."""
    profile = None
    if doc is not None:
        columns = column_histograms(doc["profile"], doc["reference_profile"])
    else:
        stored = queries.profile_document(app.store, name)
        if stored is None:
            return [], 0, None
        profile, prof_doc = stored
        columns = column_histograms(prof_doc)
    drift = check["drift"] if check else []
    failing = view.failures_by_column(check["failures"]) if check else set()
    charts, hidden = view.histogram_charts(columns, drift, failing)
    return charts, hidden, profile


def load_dataset(app: AppState, name: str, query: PageQuery) -> dict[str, Any]:
    """One dataset's page; raises :class:`NotFound` for an unknown dataset or check."""
    store = app.store
    if not queries.dataset_exists(store, name):
        raise NotFound(f"no profile or check recorded for dataset {name!r}")
    now = app.clock()
    start = now - RANGES[query.range]
    found = queries.check_document(store, name, query.check)
    if query.check is not None and found is None:
        raise NotFound(f"dataset {name!r} has no check with id {query.check!r}")
    check, doc = found if found is not None else (None, None)
    recent = queries.recent_checks(store, name, limit=RECENT_CHECKS)
    series = queries.drift_series(store, name, start, now)
    history = queries.history(store, name, start, now)
    histograms, hidden_histograms, profile = _distributions(app, name, check, doc)
    drift = check["drift"] if check else []
    return {
        "title": name,
        "name": name,
        "alerts": alerts_about(store, now, labels={"dataset": name}),
        "changes": what_changed(store, start, now, dataset=name),
        "query": query,
        "check": check,
        "latest_id": recent[0]["id"] if recent else None,
        "drift": view.drift_table(drift),
        "tested": sum(1 for d in drift if not d["skipped"]),
        "alphas": sorted({f"{d['alpha']:g}" for d in drift if d["alpha"] is not None}),
        "checks": [
            {**c, "url": view.dataset_path(name, range=query.range, check=c["id"])} for c in recent
        ],
        "profile": profile,
        "ranges": [
            {
                "key": key,
                "label": key,
                "url": view.dataset_path(
                    name, range=key, **({"check": query.check} if query.check else {})
                ),
                "current": key == query.range,
            }
            for key in RANGES
        ],
        "range_label": RANGE_LABELS[query.range],
        "drift_chart": view.drift_chart(series, drift, start, now),
        "history": view.history_charts(history),
        "histograms": histograms,
        "hidden_histograms": hidden_histograms,
        "start": start,
        "end": now,
        "page_url": view.dataset_path(name),
        "api_url": view.api_path(name),
        "now": now,
    }


@router.get("/datasets", name="datasets")
async def datasets_page(request: Request) -> Response:
    base = str(request.base_url)
    return await page(request, "datasets.html", lambda app: load_datasets(app, base))


@router.get("/datasets/{name:path}", name="dataset")
async def dataset_page(request: Request, name: str) -> Response:
    query = PageQuery.parse(request.query_params)
    try:
        return await page(
            request, "datasets_detail.html", lambda app: load_dataset(app, name, query)
        )
    except NotFound as exc:
        return render(
            request,
            "datasets_missing.html",
            {"title": "Dataset not found", "name": name, "message": str(exc)},
            status=404,
        )
