"""The Cost page: what the ML system cost over a range, where it went, and the budgets.

``GET /cost?range=30d&group=service`` shows the total, the idle share, a breakdown by the
chosen group, the daily trend by resource, cost per 1,000 calls, the cost of recent runs,
and every budget with its spent, forecast and limit. ``range`` is ``7d``, ``30d`` (whole UTC
days up to now) or ``month`` (the UTC month so far); ``group`` one of
:data:`~mlvitals.server.cost.view.GROUPS`.

One cost report (:func:`mlvitals.server.cost.queries.cost_report`, the API's) covers the
range; the page's figures are all sums of its lines, so the total equals the sum of
``BilledCost`` in the FOCUS CSV the page links to for the same range. Budgets whose period
began before the range need one more report, as in ``GET /api/v1/cost/budgets``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.cost.budgets import budget_status, period_bounds
from mlvitals.cost.report import idle_share
from mlvitals.cost.serving import per_call
from mlvitals.cost.timegrid import iso
from mlvitals.errors import HTTPError
from mlvitals.server.alerts.queries import alerts_about
from mlvitals.server.cost import view
from mlvitals.server.cost.api import config_of, configured_budgets
from mlvitals.server.cost.queries import all_budgets, budget_statuses, cost_report
from mlvitals.server.deps import AppState
from mlvitals.server.pipelines.queries import run_states
from mlvitals.server.pipelines.view import run_path
from mlvitals.server.web.render import ENV, page, render

router: APIRouter = APIRouter(include_in_schema=False)
ENV.filters["money"] = view.money


def parse(params: Mapping[str, str]) -> tuple[str, str]:
    """``range`` and ``group`` of the query; unknown values fall back to the defaults."""
    chosen = params.get("range", view.DEFAULT_RANGE)
    group = params.get("group", view.DEFAULT_GROUP)
    return (
        chosen if chosen in view.RANGES else view.DEFAULT_RANGE,
        group if group in view.GROUPS else view.DEFAULT_GROUP,
    )


def _url(chosen: str, group: str) -> str:
    return "/cost?" + urlencode({"range": chosen, "group": group})


def load_cost(app: AppState, chosen: str, group: str) -> dict[str, Any]:
    """The cost page's context (raises :class:`HTTPError` when the rate card or the budgets
    file is invalid)."""
    now = app.clock()
    start, end = view.range_bounds(chosen, now)
    store, late = app.store, app.settings.late_seconds
    config = config_of(app)
    configured = configured_budgets(app)
    budgets = all_budgets(store, configured)
    report = cost_report(store, config, start, end, now, late_seconds=late)
    lines = report.lines
    # Budgets whose period began in the range are read from this report; others need more.
    inside = [b for b in budgets if period_bounds(b.period, now)[0] >= start]
    statuses = {b.name: budget_status(b, lines, now) for b in inside}
    outside = [b for b in budgets if b.name not in statuses]
    for status in budget_statuses(store, config, outside, now, late_seconds=late):
        statuses[status.budget.name] = status
    run_ids = sorted({x.run for x in lines if x.run})
    runs = run_states(store, run_ids)
    idle = sum(x.amount for x in lines if x.idle)
    calls = sum(o.calls for o in report.operations)
    file_names = {b.name for b in configured}
    return {
        "title": "Cost",
        "alerts": alerts_about(store, now, has="budget"),
        "currency": report.currency,
        "range": chosen,
        "group": group,
        "group_label": view.GROUP_LABELS[group],
        "ranges": [
            {"key": k, "label": view.RANGE_LABELS[k], "url": _url(k, group), "current": k == chosen}
            for k in view.RANGES
        ],
        "groups": [
            {"key": g, "label": view.GROUP_LABELS[g], "url": _url(chosen, g), "current": g == group}
            for g in view.GROUPS
        ],
        "range_label": view.RANGE_LABELS[chosen],
        "start": start,
        "end": report.end,
        "now": now,
        "total": report.total,
        "idle": idle,
        "idle_share": idle_share(lines),
        "calls": calls,
        "categories": view.category_totals(lines),
        "category_labels": view.CATEGORY_LABELS,
        "daily": view.daily_by_resource(lines, start, end),
        "breakdown": view.breakdown_rows(lines, report.operations, group),
        "per_call": per_call(lines, report.operations),
        "runs": [r | {"url": run_path(r["run"])} for r in view.run_rows(lines, runs)],
        "budgets": [
            row | {"source": "file" if row["name"] in file_names else "api"}
            for row in view.budget_rows(statuses[b.name] for b in budgets)
        ],
        "warnings": list(report.warnings),
        "export_url": "/api/v1/cost/export.csv?"
        + urlencode({"start": iso(start), "end": repr(report.end)}),
        "api_url": "/api/v1/cost?" + urlencode({"start": iso(start), "group_by": group}),
        "has_lines": bool(lines),
    }


def _month(app: AppState, now: float) -> tuple[Any, list[Any]]:
    """The cost report of the UTC month so far and every budget's status."""
    start, end = view.range_bounds("month", now)
    config = config_of(app)
    budgets = all_budgets(app.store, configured_budgets(app))
    late = app.settings.late_seconds
    report = cost_report(app.store, config, start, end, now, late_seconds=late)
    inside = [b for b in budgets if period_bounds(b.period, now)[0] >= start]
    statuses = [budget_status(b, report.lines, now) for b in inside]
    outside = [b for b in budgets if b not in inside]
    statuses += budget_statuses(app.store, config, outside, now, late_seconds=late)
    return report, statuses


def glance(app: AppState) -> dict[str, Any]:
    """The overview's row: the cost of the UTC month so far and how its budgets stand, each
    budget by name with its state: ``over`` (spent more than its limit), ``forecast_over``
    (will be, at this rate) or ``within``."""
    report, statuses = _month(app, app.clock())
    states = []
    for s in statuses:
        state, text = (
            ("over", "over its limit")
            if s.breached
            else ("forecast_over", "forecast over its limit")
            if s.forecast_breached
            else ("within", "within budget")
        )
        states.append({"name": s.budget.name, "state": state, "state_text": text})
    return {
        "total": report.total,
        "currency": report.currency,
        "budgets": len(statuses),
        "breached": sum(1 for s in statuses if s.breached),
        "forecast": sum(1 for s in statuses if s.forecast_breached and not s.breached),
        "states": states,
    }


@router.get("/cost", name="cost")
async def cost(request: Request) -> Response:
    chosen, group = parse(request.query_params)
    try:
        return await page(request, "cost.html", lambda app: load_cost(app, chosen, group))
    except HTTPError as exc:
        return render(
            request,
            "error.html",
            {
                "title": "Cost unavailable",
                "message": str(exc),
                "hint": "Fix the file named above; this page reads it again on the next load.",
            },
            status=exc.status,
        )
