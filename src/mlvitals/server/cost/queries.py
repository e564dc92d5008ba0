"""Cost from the store: reports over a period, budgets, and what the cost page shows.

Usage comes from :mod:`mlvitals.server.cost.usage` (hourly rollups and raw rows); prices,
allocation and budgets are the pure functions of :mod:`mlvitals.cost`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mlvitals.cost.budgets import Budget, BudgetStatus, budget_status, period_bounds
from mlvitals.cost.config import CostConfig
from mlvitals.cost.lines import CostLine
from mlvitals.cost.report import allocations, breakdown, daily, idle_share, with_calls
from mlvitals.cost.result import CostResult
from mlvitals.cost.serving import OperationUsage, per_call, serving_lines
from mlvitals.cost.timegrid import DAY, day_start
from mlvitals.server.cost.usage import ensure_rolled, run_costs, serving_usage, storage_costs
from mlvitals.store import Store

# -- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CostReport:
    """Every cost line over ``[start, end)``, with what per-call figures need."""

    start: float
    end: float
    currency: str
    lines: tuple[CostLine, ...]
    warnings: tuple[str, ...] = ()
    operations: tuple[OperationUsage, ...] = field(default=())

    @property
    def total(self) -> float:
        return sum(line.amount for line in self.lines)


def cost_report(
    store: Store,
    config: CostConfig,
    start: float,
    end: float,
    now: float,
    *,
    service: str | None = None,
    pipeline: str | None = None,
    late_seconds: float = 7200.0,
) -> CostReport:
    """All cost over ``[start, end)`` (``end`` is capped at ``now``): model services, runs and
    dataset storage; ``service`` keeps one service only, ``pipeline`` one pipeline's runs and
    datasets only."""
    end = min(end, now)
    if not end > start:
        return CostReport(start, max(start, end), config.card.currency, ())
    ensure_rolled(store, now, late_seconds=late_seconds, max_gap=config.max_gap)
    cuts = [p.effective_from for p in config.card.periods[1:]]
    results: list[CostResult] = []
    operations: list[OperationUsage] = []
    if pipeline is None:
        instances, operations = serving_usage(
            store, start, end, cuts=cuts, service=service, max_gap=config.max_gap
        )
        results.append(serving_lines(instances, operations, config, start=start, end=end))
    if service is None:
        results.append(run_costs(store, config, start, end, pipeline))
        results.append(storage_costs(store, config, start, end, pipeline))
    combined = CostResult.combine(results)
    return CostReport(
        start, end, config.card.currency, combined.lines, combined.warnings, tuple(operations)
    )


def report_dict(report: CostReport, group_by: str) -> dict[str, Any]:
    """The JSON of ``GET /api/v1/cost``."""
    return {
        "start": report.start,
        "end": report.end,
        "currency": report.currency,
        "total": report.total,
        "idle": sum(line.amount for line in report.lines if line.idle),
        "idle_share": idle_share(report.lines),
        "group_by": group_by,
        "groups": with_calls(
            breakdown(report.lines, group_by),
            ((o.service, o.version, o.operation, o.calls) for o in report.operations),
            group_by,
        ),
        "per_call": per_call(report.lines, report.operations),
        "warnings": list(report.warnings),
    }


# -- budgets ---------------------------------------------------------------------------------


def stored_budgets(store: Store) -> list[Budget]:
    rows = store.fetch(
        "SELECT name, scope, subject, period, limit_amount FROM cost_budgets ORDER BY name"
    )
    return [
        Budget(r["name"], float(r["limit_amount"]), r["period"], r["scope"], r["subject"])
        for r in rows
    ]


def save_budget(store: Store, budget: Budget, now: float) -> None:
    store.execute(
        "INSERT INTO cost_budgets (name, scope, subject, period, limit_amount, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET scope = excluded.scope,"
        " subject = excluded.subject, period = excluded.period,"
        " limit_amount = excluded.limit_amount, updated_at = excluded.updated_at",
        (budget.name, budget.scope, budget.subject, budget.period, budget.limit, now),
    )


def delete_budget(store: Store, name: str) -> bool:
    return store.execute("DELETE FROM cost_budgets WHERE name = ?", (name,)) > 0


def all_budgets(store: Store, configured: Sequence[Budget]) -> list[Budget]:
    """Budgets of the budgets file, then those created through the API (a stored budget
    with a configured budget's name is ignored: the file wins)."""
    names = {b.name for b in configured}
    return [*configured, *(b for b in stored_budgets(store) if b.name not in names)]


def budget_statuses(
    store: Store,
    config: CostConfig,
    budgets: Sequence[Budget],
    now: float,
    *,
    late_seconds: float = 7200.0,
) -> list[BudgetStatus]:
    """Where each budget stands now: one cost report covers every budget's period."""
    if not budgets:
        return []
    start = min(period_bounds(b.period, now)[0] for b in budgets)
    report = cost_report(store, config, start, now, now, late_seconds=late_seconds)
    return [budget_status(b, report.lines, now) for b in budgets]


# -- the dashboard's cost page ---------------------------------------------------------------


def cost_page(
    store: Store,
    config: CostConfig,
    budgets: Sequence[Budget],
    now: float,
    *,
    days: int = 30,
    late_seconds: float = 7200.0,
) -> dict[str, Any]:
    """What a cost page shows for the last ``days`` days: totals, the breakdown by service,
    by resource and by pipeline, the daily trend, the idle share, cost per call, allocations
    in OpenCost's terms, and budgets with their forecasts."""
    start = day_start(now) - (days - 1) * DAY
    report = cost_report(store, config, start, now, now, late_seconds=late_seconds)
    # Budgets whose period began in the window are read from this report; others need more.
    inside = [b for b in budgets if period_bounds(b.period, now)[0] >= start]
    statuses = {b.name: budget_status(b, report.lines, now) for b in inside}
    outside = [b for b in budgets if b.name not in statuses]
    for status in budget_statuses(store, config, outside, now, late_seconds=late_seconds):
        statuses[status.budget.name] = status
    return {
        **report_dict(report, "service"),
        "by_resource": breakdown(report.lines, "resource"),
        "by_pipeline": breakdown([x for x in report.lines if x.pipeline], "pipeline"),
        "daily": daily(report.lines),
        "allocations": allocations(report.lines),
        "budgets": [statuses[b.name].to_dict() for b in budgets],
    }
