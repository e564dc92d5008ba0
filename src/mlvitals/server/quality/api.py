"""Datasets API: stored profiles and checks, drift per column over time, distributions.

``GET /api/v1/datasets``, ``/api/v1/datasets/{name}``, ``/api/v1/datasets/{name}/drift``
and ``/api/v1/datasets/{name}/histograms`` (scope ``read``). The queries live in
:mod:`mlvitals.server.quality.queries`, shared with the pages and the alert rules.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from mlvitals.errors import BadRequest, NotFound
from mlvitals.server.deps import require, state
from mlvitals.server.quality import queries
from mlvitals.server.quality.histograms import column_histograms
from mlvitals.server.timerange import parse_time
from mlvitals.server.web.answers import Answer, Number, errors

router: APIRouter = APIRouter(
    prefix="/api/v1", dependencies=[Depends(require("read"))], tags=["datasets"]
)

DEFAULT_SPAN = 30 * 86400.0
START = Query(None, description="Unix seconds, 'now' or 'now-7d' (default: end - 30 days)")
END = Query(None, description="Unix seconds or 'now' (default: now)")


class _Checked(Answer):
    dataset: str
    time: Number
    run_id: str | None
    step_id: str | None
    data_name: str
    reference: str
    passed: bool
    dataset_drift: bool
    drifted_share: Number | None
    dataset_share: Number | None
    columns_tested: int
    columns_drifted: int
    failure_count: int
    rows: int
    reference_rows: int | None
    column_count: int
    bytes: int | None
    result_bytes: int | None
    trimmed: list[str]


class CheckSummary(_Checked):
    id: str


class _Tested(Answer):
    time: Number
    check_id: str
    kind: str
    method: str
    test: str | None
    statistic: Number | None
    p_value: Number | None
    p_adjusted: Number | None
    alpha: Number | None
    effect: str | None
    effect_size: Number | None
    threshold: Number | None
    drifted: bool
    skipped: bool
    route: str | None
    n_reference: int | None
    n_current: int | None
    note: str | None


class Drift(_Tested):
    """One column's drift in one check; ``value`` is its effect size, else its statistic."""

    value: Number | None


class ColumnDrift(_Tested):
    column: str
    value: Number | None


class CheckDetail(_Checked):
    failures: list[dict[str, Any]]
    notes: list[Any]
    id: str
    drift: list[ColumnDrift]


class DatasetStatus(Answer):
    dataset: str
    status: str = Field(description="passed, failed or unchecked")
    profiles: int
    checks: int
    last_profile_at: Number | None
    last_check_at: Number | None
    rows: int | None
    columns: int | None
    bytes: int | None
    last_check: CheckSummary | None


class DatasetList(Answer):
    datasets: list[DatasetStatus]


class SizePoint(Answer):
    source: str = Field(description="profile or check")
    time: Number
    id: str
    rows: int
    columns: int
    bytes: int | None


class DatasetAnswer(Answer):
    dataset: str
    check: CheckDetail | None
    checks: list[CheckSummary]
    history: list[SizePoint]
    start: Number
    end: Number


class DriftSeries(Answer):
    column: str
    points: list[Drift]


class DriftAnswer(Answer):
    dataset: str
    start: Number
    end: Number
    columns: list[DriftSeries]


class Bin(Answer):
    """A numeric bin (``low``, ``high``; ``None`` for an open end) or a category."""

    label: str
    low: Number | None = None
    high: Number | None = None
    current: int | None
    reference: int | None
    current_share: Number | None
    reference_share: Number | None


class Histogram(Answer):
    column: str
    kind: str | None
    type: str = Field(description="bins (numeric) or categories")
    bins: list[Bin]
    current_total: int
    reference_total: int
    exact: bool | None = Field(None, description="categories: whether the counts are exact")


class HistogramsAnswer(Answer):
    """The distributions of a check (``check``) or of a profile (``profile``)."""

    dataset: str
    check: str | None = None
    profile: str | None = None
    time: Number
    columns: list[Histogram]


def _range(start: str | None, end: str | None, now: float) -> tuple[float, float]:
    """``[start, end)`` from the query (checks are points in time: no step, no alignment)."""
    e = parse_time(end, "end", now) if end else now
    s = parse_time(start, "start", now) if start else e - DEFAULT_SPAN
    if not e > s:
        raise BadRequest("'end' must be after 'start'")
    return s, e


@router.get(
    "/datasets",
    summary="Every dataset: its latest check's verdict, rows, last profile",
    response_model=DatasetList,
    responses=errors(),
)
async def list_datasets(request: Request) -> dict[str, Any]:
    app = state(request)
    return {"datasets": await run_in_threadpool(queries.list_datasets, app.store)}


@router.get(
    "/datasets/{name}",
    summary="One dataset: its latest check (failures, drift per column) and its size over time",
    response_model=DatasetAnswer,
    responses=errors(400, 404),
)
async def dataset(
    request: Request,
    name: str,
    check: str | None = Query(None, description="a check id (default: the latest check)"),
    start: str | None = START,
    end: str | None = END,
) -> dict[str, Any]:
    app = state(request)
    first, last = _range(start, end, app.clock())

    def load() -> dict[str, Any] | None:
        if not queries.dataset_exists(app.store, name):
            return None
        latest = queries.check_summary(app.store, name, check)
        if check is not None and latest is None:
            raise NotFound(f"dataset {name!r} has no check with id {check!r}")
        return {
            "dataset": name,
            "check": latest,
            "checks": queries.recent_checks(app.store, name),
            "history": queries.history(app.store, name, first, last),
            "start": first,
            "end": last,
        }

    found = await run_in_threadpool(load)
    if found is None:
        raise NotFound(f"no profile or check recorded for dataset {name!r}")
    return found


@router.get(
    "/datasets/{name}/drift",
    summary="Drift of each column over time",
    response_model=DriftAnswer,
    responses=errors(400, 404),
)
async def drift(
    request: Request,
    name: str,
    column: str | None = Query(None, description="one column (default: every column)"),
    start: str | None = START,
    end: str | None = END,
) -> dict[str, Any]:
    app = state(request)
    first, last = _range(start, end, app.clock())

    def load() -> dict[str, Any] | None:
        if not queries.dataset_exists(app.store, name):
            return None
        series = queries.drift_series(app.store, name, first, last, column)
        return {"dataset": name, "start": first, "end": last, "columns": series}

    found = await run_in_threadpool(load)
    if found is None:
        raise NotFound(f"no profile or check recorded for dataset {name!r}")
    return found


@router.get(
    "/datasets/{name}/histograms",
    summary="Reference and current distribution of each column, from a check or a profile",
    response_model=HistogramsAnswer,
    response_model_exclude_unset=True,
    responses=errors(400, 404),
)
async def histograms(
    request: Request,
    name: str,
    check: str | None = Query(None, description="a check id (default: the latest check)"),
    profile: str | None = Query(None, description="a profile id: its own distributions"),
) -> dict[str, Any]:
    if check is not None and profile is not None:
        raise BadRequest("give either 'check' or 'profile', not both")
    app = state(request)

    def load() -> dict[str, Any]:
        if profile is None:
            found = queries.check_document(app.store, name, check)
            if found is not None:
                summary, doc = found
                return {
                    "dataset": name,
                    "check": summary["id"],
                    "time": summary["time"],
                    "columns": column_histograms(doc["profile"], doc["reference_profile"]),
                }
            if check is not None:
                raise NotFound(f"dataset {name!r} has no check with id {check!r}")
        stored = queries.profile_document(app.store, name, profile)
        if stored is None:
            what = f"no profile with id {profile!r}" if profile else "no check and no profile"
            raise NotFound(f"dataset {name!r} has {what}")
        summary, doc = stored
        return {
            "dataset": name,
            "profile": summary["id"],
            "time": summary["time"],
            "columns": column_histograms(doc),
        }

    return await run_in_threadpool(load)
