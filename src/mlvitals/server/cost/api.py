"""Cost API: cost lines grouped, budgets with forecasts, the FOCUS CSV export, the rate card.

Times are Unix seconds, ``now``, ``now-30d``, or ISO dates and times (``2026-11-01``,
``2026-11-01T12:00:00Z``; UTC when no zone is given).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ConfigDict, Field

from mlvitals.cost.budgets import Budget as BudgetConfig
from mlvitals.cost.budgets import load_budgets, parse_budget
from mlvitals.cost.config import CostConfig, load_config
from mlvitals.cost.focus import write_focus_csv
from mlvitals.cost.report import GROUPS
from mlvitals.cost.timegrid import DAY, day_start, iso, parse_when
from mlvitals.errors import BadRequest, ConfigError, HTTPError, NotFound
from mlvitals.server.cost.queries import (
    all_budgets,
    budget_statuses,
    cost_page,
    cost_report,
    delete_budget,
    report_dict,
    save_budget,
)
from mlvitals.server.deps import AppState, require, state
from mlvitals.server.record_values import StorableBody
from mlvitals.server.web.answers import Answer, Number, errors

router: APIRouter = APIRouter(prefix="/api/v1/cost", tags=["cost"])
READ = [Depends(require("read"))]
ADMIN = [Depends(require("admin"))]

START = Query(None, description="Unix seconds, ISO date/time or now-7d (default: 30 days)")
END = Query(None, description="Unix seconds, ISO date/time or 'now' (default: now)")
SERVICE = Query(None, description="only this model service")
PIPELINE = Query(None, description="only this pipeline's runs and datasets")


class BudgetIn(StorableBody):
    model_config = ConfigDict(extra="forbid")

    limit: float = Field(gt=0, description="spending limit per period, in the rate card currency")
    period: Literal["daily", "monthly"] = "monthly"
    scope: Literal["total", "service", "pipeline"] = "total"
    subject: str = Field("", max_length=200, description="the service or pipeline name")


class Budget(Answer):
    name: str
    limit: Number
    period: str
    scope: str
    subject: str


class BudgetStatus(Budget):
    period_start: Number
    period_end: Number
    spent: Number
    forecast: Number
    breached: bool
    forecast_breached: bool


class ListedBudget(BudgetStatus):
    source: str = Field(description="file (the budgets file) or api (set by PUT)")


class BudgetList(Answer):
    currency: str
    budgets: list[ListedBudget]


class Deleted(Answer):
    deleted: str


class CallCost(Answer):
    service: str
    version: str
    operation: str
    calls: int
    amount: Number
    per_call: Number | None
    per_1k_calls: Number | None


class CostAnswer(Answer):
    start: Number
    end: Number
    currency: str
    total: Number
    idle: Number
    idle_share: Number | None
    group_by: str
    groups: list[dict[str, Any]] = Field(
        description="one per value of group_by (its key), with amount and idle; per service "
        "also calls, per_call and per_1k_calls"
    )
    per_call: list[CallCost]
    warnings: list[str]


class ResourceCost(Answer):
    resource: str
    unit: str
    amount: Number
    idle: Number
    quantity: Number


class DayCost(Answer):
    day: str
    serving: Number
    run: Number
    storage: Number
    idle: Number
    total: Number


class CostOverview(CostAnswer):
    by_resource: list[ResourceCost]
    by_pipeline: list[dict[str, Any]]
    daily: list[DayCost]
    allocations: list[dict[str, Any]] = Field(description="per service, OpenCost's fields")
    budgets: list[BudgetStatus]


class RatePeriod(Answer):
    effective_from: Number | None
    cpu_core_hour: Number
    ram_gib_hour: Number
    gpu_hour: dict[str, Number] = Field(description="by GPU model, and default")
    block_storage_gib_month: Number
    object_storage_gib_month: Number
    egress_gib: Number
    per_1k_calls: dict[str, Number]


class Rates(Answer):
    currency: str
    source: str
    uptime_max_gap_seconds: Number
    periods: list[RatePeriod]


@lru_cache(maxsize=8)
def _config_at(path: str, mtime_ns: int) -> CostConfig:
    return load_config(path)


@lru_cache(maxsize=8)
def _budgets_at(path: str, mtime_ns: int) -> tuple[BudgetConfig, ...]:
    return tuple(load_budgets(path))


def _mtime(path: str) -> int:
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return -1  # load_* raises the error that names the file


def config_of(app: AppState) -> CostConfig:
    """The rate card of the settings, re-read when its file changes."""
    path = app.settings.rate_card
    try:
        return _config_at(path, _mtime(path)) if path else load_config(None)
    except ConfigError as exc:
        raise HTTPError(f"the rate card is invalid: {exc}", status=500) from None


def configured_budgets(app: AppState) -> tuple[BudgetConfig, ...]:
    path = app.settings.budgets_file
    try:
        return _budgets_at(path, _mtime(path)) if path else ()
    except ConfigError as exc:
        raise HTTPError(f"the budgets file is invalid: {exc}", status=500) from None


def _time(text: str, name: str, now: float) -> float:
    try:
        return parse_when(text, now)
    except ValueError as exc:
        raise BadRequest(f"'{name}': {exc}") from None


def _range(start: str | None, end: str | None, now: float) -> tuple[float, float]:
    e = _time(end, "end", now) if end else now
    s = _time(start, "start", now) if start else day_start(now) - 29 * DAY
    if not e > s:
        raise BadRequest("'end' must be after 'start'")
    return s, e


@router.get(
    "",
    dependencies=READ,
    summary="Cost over a period, grouped",
    response_model=CostAnswer,
    responses=errors(400, 500),
)
async def cost(
    request: Request,
    start: str | None = START,
    end: str | None = END,
    group_by: str = Query("service", description=f"one of {', '.join(GROUPS)}"),
    service: str | None = SERVICE,
    pipeline: str | None = PIPELINE,
) -> dict[str, Any]:
    app = state(request)
    if group_by not in GROUPS:
        raise BadRequest(f"cannot group by {group_by!r}: choose from {', '.join(GROUPS)}")
    now = app.clock()
    s, e = _range(start, end, now)
    config = config_of(app)
    report = await run_in_threadpool(
        cost_report,
        app.store,
        config,
        s,
        e,
        now,
        service=service,
        pipeline=pipeline,
        late_seconds=app.settings.late_seconds,
    )
    return report_dict(report, group_by)


@router.get(
    "/export.csv",
    dependencies=READ,
    summary="Cost lines as a FOCUS-style CSV",
    response_class=Response,
    responses={
        200: {
            "description": "one FOCUS row per cost line, as an attachment",
            "content": {"text/csv; charset=utf-8": {"schema": {"type": "string"}}},
        },
        **errors(400, 500),
    },
)
async def export_csv(
    request: Request,
    start: str | None = START,
    end: str | None = END,
    service: str | None = SERVICE,
    pipeline: str | None = PIPELINE,
) -> Response:
    app = state(request)
    now = app.clock()
    s, e = _range(start, end, now)
    report = await run_in_threadpool(
        cost_report,
        app.store,
        config_of(app),
        s,
        e,
        now,
        service=service,
        pipeline=pipeline,
        late_seconds=app.settings.late_seconds,
    )
    out = io.StringIO()
    write_focus_csv(report.lines, out)
    name = f"mlvitals-cost-{iso(s)[:10]}-{iso(e)[:10]}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/overview",
    dependencies=READ,
    summary="Everything a cost page shows",
    response_model=CostOverview,
    responses=errors(500),
)
async def overview(
    request: Request, days: int = Query(30, ge=1, le=400, description="days to cover")
) -> dict[str, Any]:
    app = state(request)
    budgets = await run_in_threadpool(all_budgets, app.store, configured_budgets(app))
    return await run_in_threadpool(
        lambda: cost_page(
            app.store,
            config_of(app),
            budgets,
            app.clock(),
            days=days,
            late_seconds=app.settings.late_seconds,
        )
    )


@router.get(
    "/budgets",
    dependencies=READ,
    summary="Budgets: spent, forecast, breaches",
    response_model=BudgetList,
    responses=errors(500),
)
async def budgets(request: Request) -> dict[str, Any]:
    app = state(request)
    configured = configured_budgets(app)
    listed = await run_in_threadpool(all_budgets, app.store, configured)
    statuses = await run_in_threadpool(
        lambda: budget_statuses(
            app.store,
            config_of(app),
            listed,
            app.clock(),
            late_seconds=app.settings.late_seconds,
        )
    )
    names = {b.name for b in configured}
    return {
        "currency": config_of(app).card.currency,
        "budgets": [
            {**s.to_dict(), "source": "file" if s.budget.name in names else "api"} for s in statuses
        ],
    }


@router.put(
    "/budgets/{name}",
    dependencies=ADMIN,
    summary="Create or replace a budget",
    response_model=Budget,
    responses=errors(400, 409, 500),
)
async def put_budget(request: Request, name: str, body: BudgetIn) -> dict[str, Any]:
    app = state(request)
    if name in {b.name for b in configured_budgets(app)}:
        raise HTTPError(
            f"budget {name!r} is defined in the budgets file; change it there", status=409
        )
    try:
        budget = parse_budget({"name": name, **body.model_dump()}, "", "request body")
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None
    await run_in_threadpool(save_budget, app.store, budget, app.clock())
    return budget.to_dict()


@router.delete(
    "/budgets/{name}",
    dependencies=ADMIN,
    summary="Delete a budget set by the API",
    response_model=Deleted,
    responses=errors(404),
)
async def remove_budget(request: Request, name: str) -> dict[str, Any]:
    app = state(request)
    if not await run_in_threadpool(delete_budget, app.store, name):
        raise NotFound(f"no budget {name!r} was set through the API")
    return {"deleted": name}


@router.get(
    "/rates",
    dependencies=READ,
    summary="The rate card in force",
    response_model=Rates,
    responses=errors(500, store=False),
)
async def rates(request: Request) -> dict[str, Any]:
    config = config_of(state(request))
    return {
        "currency": config.card.currency,
        "source": config.source,
        "uptime_max_gap_seconds": config.max_gap,
        "periods": [
            {
                "effective_from": None if p.effective_from == float("-inf") else p.effective_from,
                "cpu_core_hour": p.rates.cpu_core_hour,
                "ram_gib_hour": p.rates.ram_gib_hour,
                "gpu_hour": dict(p.rates.gpu_hour),
                "block_storage_gib_month": p.rates.block_storage_gib_month,
                "object_storage_gib_month": p.rates.object_storage_gib_month,
                "egress_gib": p.rates.egress_gib,
                "per_1k_calls": dict(p.rates.per_1k_calls),
            }
            for p in config.card.periods
        ],
    }
