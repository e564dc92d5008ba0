"""What the Cost page shows, from one cost report's lines (pure functions, no store).

Amounts keep full precision in the page's ``<data value>`` elements and are rounded only
for reading (:func:`money`), as everywhere else in mlvitals.

>>> money(1234.5), money(0.004237), money(0.0), money(7e-8), money(None)
('1,234.50', '0.00424', '0.00', '< 0.0001', '—')
>>> range_bounds("7d", 1_800_000_000.0)
(1799452800.0, 1800000000.0)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mlvitals.cost.budgets import BudgetStatus
from mlvitals.cost.lines import CostLine
from mlvitals.cost.report import breakdown, group_keys, with_calls
from mlvitals.cost.serving import OperationUsage
from mlvitals.cost.timegrid import DAY, day_start, month_start

RANGES = ("7d", "30d", "month")
RANGE_LABELS = {"7d": "Last 7 days", "30d": "Last 30 days", "month": "This month"}
DEFAULT_RANGE = "30d"

GROUPS = ("service", "version", "operation", "pipeline", "resource", "category")
GROUP_LABELS = {
    "service": "Service",
    "version": "Version",
    "operation": "Operation",
    "pipeline": "Pipeline",
    "resource": "Resource",
    "category": "Category",
}
DEFAULT_GROUP = "service"

RESOURCE_LABELS = {
    "cpu": "CPU",
    "ram": "Memory",
    "gpu": "GPU",
    "calls": "Per-call price",
    "block_storage": "Block storage",
    "object_storage": "Object storage",
    "egress": "Egress",
}
CATEGORY_LABELS = {"serving": "Model services", "run": "Pipeline runs", "storage": "Storage"}
RESOURCE_COLORS = {
    "cpu": "--chart-1",
    "ram": "--chart-2",
    "gpu": "--chart-5",
    "calls": "--chart-4",
    "block_storage": "--chart-3",
    "object_storage": "--chart-6",
    "egress": "--muted",
}
SMALLEST = 0.0001
"""Amounts below this are shown as ``< 0.0001``: more digits say nothing to a reader."""
MAX_RUNS = 20
"""Runs listed with their cost, the most recent first."""


def money(amount: float | None) -> str:
    """An amount for reading: two decimals from 1 up, three significant digits below, and
    ``< 0.0001`` for what is smaller (the page's ``<data>`` values keep every digit)."""
    if amount is None or not math.isfinite(amount):
        return "—"
    if amount == 0:
        return "0.00"
    if abs(amount) >= 1:
        return f"{amount:,.2f}"
    if abs(amount) < SMALLEST:
        return f"{'> -' if amount < 0 else '< '}{SMALLEST}"
    decimals = 2 - math.floor(math.log10(abs(amount)))
    return f"{amount:.{max(decimals, 2)}f}"


def range_bounds(key: str, now: float) -> tuple[float, float]:
    """``[start, now)`` of a range choice: whole UTC days, or the UTC month so far."""
    if key == "month":
        return month_start(now), now
    days = 7 if key == "7d" else 30
    return day_start(now) - (days - 1) * DAY, now


def daily_by_resource(lines: Iterable[CostLine], start: float, end: float) -> list[dict[str, Any]]:
    """Amount per UTC day and resource, one series per resource (stacked bars), every day
    of ``[start, end)`` on the axis so that a day without cost shows as zero.

    >>> line = CostLine(0.0, 3600.0, "cpu", 1.0, "core-hour", 0.5, 0.5, "USD")
    >>> [(s["name"], s["x"], s["y"]) for s in daily_by_resource([line], 0.0, 2 * DAY)]
    [('CPU', ['Jan 1', 'Jan 2'], [0.5, 0.0])]
    """
    days = []
    t = day_start(start)
    while t < end:
        days.append(t)
        t += DAY
    amounts: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        amounts[line.resource][day_start(line.start)] += line.amount
    labels = [day_label(d) for d in days]
    return [
        {
            "name": RESOURCE_LABELS.get(resource, resource),
            "color": RESOURCE_COLORS.get(resource, "--muted"),
            "x": labels,
            "y": [amounts[resource].get(d, 0.0) for d in days],
        }
        for resource in RESOURCE_LABELS
        if resource in amounts
    ]


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_label(t: float) -> str:
    """A UTC day as the axis shows it, e.g. ``Nov 27`` (the same in every locale)."""
    d = datetime.fromtimestamp(t, UTC)
    return f"{_MONTHS[d.month - 1]} {d.day}"


def _label(group: str, row: Mapping[str, Any]) -> str:
    if group in ("resource", "category"):
        key = str(row[group])
        return (RESOURCE_LABELS if group == "resource" else CATEGORY_LABELS).get(key, key)
    parts = [str(row[k]) for k in group_keys(group)]
    if not any(parts):
        return "services" if group == "pipeline" else "runs and storage"
    return " / ".join(p or "(none)" for p in parts)


def breakdown_rows(
    lines: Sequence[CostLine], operations: Iterable[OperationUsage], group: str
) -> list[dict[str, Any]]:
    """Amount, idle and share of the total per group; calls and cost per 1,000 calls when
    grouping by service, version or operation. A group with no name (runs and storage by
    service, services by pipeline) is labelled by what it holds and marked ``other``."""
    total = sum(line.amount for line in lines)
    rows = with_calls(
        breakdown(lines, group),
        ((o.service, o.version, o.operation, o.calls) for o in operations),
        group,
    )
    out = []
    for row in rows:
        keys = [str(row[k]) for k in group_keys(group)]
        other = group not in ("resource", "category") and not any(keys)
        out.append(
            {
                **row,
                "label": _label(group, row),
                "other": other,
                "share": row["amount"] / total if total > 0 else 0.0,
                "idle_share": row["idle"] / row["amount"] if row["amount"] > 0 else 0.0,
            }
        )
    # Named groups first, largest first; the unnamed rest last.
    return sorted(out, key=lambda r: r["other"])


def category_totals(lines: Iterable[CostLine]) -> dict[str, float]:
    """Amount per category (serving, run, storage), each present even when zero."""
    totals = dict.fromkeys(CATEGORY_LABELS, 0.0)
    for line in lines:
        totals[line.category] = totals.get(line.category, 0.0) + line.amount
    return totals


def run_rows(
    lines: Iterable[CostLine], runs: Mapping[str, Any], limit: int = MAX_RUNS
) -> list[dict[str, Any]]:
    """Cost of each run in the lines (compute and idle; storage of what it wrote is not a
    run cost), joined with what is known of the run (``runs``: run id -> ``RunState``),
    most recent start first."""
    rows = breakdown([x for x in lines if x.run and not x.dataset], "run")
    out = []
    for row in rows:
        state = runs.get(row["run"])
        out.append(
            {
                **row,
                "started_at": None if state is None else state.started_at,
                "state": None if state is None else state.state,
                "kind": (None if state is None else state.run_kind) or "",
                "duration": None if state is None else state.duration_seconds,
            }
        )
    out.sort(key=lambda r: r["started_at"] or 0.0, reverse=True)
    return out[:limit]


def budget_rows(statuses: Iterable[BudgetStatus]) -> list[dict[str, Any]]:
    """Each budget with its bar: spent and forecast as percentages of the limit (capped at
    100 for drawing), and its state: ``breached``, ``forecast`` (forecast over the limit)
    or ``ok``."""
    out = []
    for s in statuses:
        b = s.budget
        state = "breached" if s.breached else "forecast" if s.forecast_breached else "ok"
        out.append(
            {
                "name": b.name,
                "scope": b.scope,
                "subject": b.subject,
                "period": b.period,
                "period_start": s.period_start,
                "period_end": s.period_end,
                "spent": s.spent,
                "forecast": s.forecast,
                "limit": s.limit,
                "state": state,
                "spent_pct": min(100.0, 100.0 * s.spent / s.limit),
                "forecast_pct": min(100.0, 100.0 * s.forecast / s.limit),
                "used": s.spent / s.limit,
            }
        )
    return out
