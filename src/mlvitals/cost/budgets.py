"""Budgets: a spending limit per service, per pipeline or in total, per day or per month,
with a forecast to the end of the period.

The forecast is linear on the period-to-date run rate: ``spent × period length / time
elapsed``. It is exact for a steady spend and moves quickly early in a period (the first
hours of a month say little about the rest); it assumes the data is current. Periods are
UTC days and UTC calendar months. A budget is *breached* when spent exceeds the limit, and
*forecast breached* when the forecast does; both are events for alerting.

>>> from mlvitals.cost.lines import CostLine
>>> line = CostLine(0.0, 86400.0, "cpu", 100.0, "core-hour", 1.0, 100.0, "USD", service="a")
>>> status = budget_status(Budget("a-daily", 150.0, "daily", "service", "a"), [line], 43200.0)
>>> status.spent, status.forecast, status.breached, status.forecast_breached
(50.0, 100.0, False, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlvitals.cost.lines import CostLine
from mlvitals.cost.timegrid import DAY, day_start, month_start, next_month, overlap
from mlvitals.cost.validate import Validator
from mlvitals.errors import ConfigError

SCOPES = ("total", "service", "pipeline")
PERIODS = ("daily", "monthly")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")


@dataclass(frozen=True, slots=True)
class Budget:
    """A limit on what ``subject`` (a service or pipeline; nothing for ``total``) spends
    per ``period``."""

    name: str
    limit: float
    period: str = "monthly"
    scope: str = "total"
    subject: str = ""

    def covers(self, line: CostLine) -> bool:
        if self.scope == "service":
            return line.service == self.subject
        if self.scope == "pipeline":
            return line.pipeline == self.subject
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "limit": self.limit,
            "period": self.period,
            "scope": self.scope,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """Where a budget stands at ``now``: spent so far this period and the forecast."""

    budget: Budget
    period_start: float
    period_end: float
    spent: float
    forecast: float
    limit: float
    breached: bool
    forecast_breached: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.budget.to_dict(),
            "period_start": self.period_start,
            "period_end": self.period_end,
            "spent": self.spent,
            "forecast": self.forecast,
            "breached": self.breached,
            "forecast_breached": self.forecast_breached,
        }


def period_bounds(period: str, now: float) -> tuple[float, float]:
    """The UTC day or calendar month holding ``now``."""
    if period == "daily":
        start = day_start(now)
        return start, start + DAY
    if period == "monthly":
        return month_start(now), next_month(now)
    raise ValueError(f"unknown budget period {period!r}: use one of {', '.join(PERIODS)}")


def budget_status(budget: Budget, lines: Iterable[CostLine], now: float) -> BudgetStatus:
    """Spent and forecast of ``budget`` in the period holding ``now``.

    ``lines`` may cover more than the period: only the part of each line inside
    ``[period start, now)`` counts, in proportion to time.
    """
    start, end = period_bounds(budget.period, now)
    spent = 0.0
    for line in lines:
        if not budget.covers(line):
            continue
        length = line.end - line.start
        if length <= 0:
            continue
        spent += line.amount * overlap(line.start, line.end, start, now) / length
    elapsed = now - start
    forecast = spent * (end - start) / elapsed if elapsed > 0 else spent
    return BudgetStatus(
        budget=budget,
        period_start=start,
        period_end=end,
        spent=spent,
        forecast=forecast,
        limit=budget.limit,
        breached=spent > budget.limit,
        forecast_breached=forecast > budget.limit,
    )


def parse_budget(data: Any, where: str, source: str) -> Budget:
    """A :class:`Budget` from a mapping; errors raise ConfigError ``SOURCE: FIELD: why``."""
    v = Validator(source)
    entry: Mapping[str, Any] = v.mapping(
        data, where, {"name", "limit", "period", "scope", "subject"}
    )
    at = f"{where}." if where else ""
    name = v.text(entry.get("name"), f"{at}name")
    if not _NAME.fullmatch(name):
        v.fail(f"{at}name", "must be 1-100 letters, digits, '_', '.' or '-'")
    if "limit" not in entry:
        v.fail(f"{at}limit", "is required")
    limit = v.number(entry["limit"], f"{at}limit", positive=True)
    period = entry.get("period", "monthly")
    if period not in PERIODS:
        v.fail(f"{at}period", f"must be one of {', '.join(PERIODS)}, got {period!r}")
    scope = entry.get("scope", "total")
    if scope not in SCOPES:
        v.fail(f"{at}scope", f"must be one of {', '.join(SCOPES)}, got {scope!r}")
    subject = v.text(entry.get("subject", ""), f"{at}subject")
    if (scope == "total") == bool(subject):
        v.fail(f"{at}subject", "names the service or pipeline, and only for those scopes")
    return Budget(name, limit, period, scope, subject)


def load_budgets(path: str | Path | None) -> list[Budget]:
    """Budgets from a YAML file with a list ``budgets``; no path gives none."""
    if not path:
        return []
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read budgets file {p}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    v = Validator(str(p))
    top = v.mapping({} if data is None else data, "", {"budgets"})
    budgets = [
        parse_budget(item, f"budgets[{i}]", str(p))
        for i, item in enumerate(v.sequence(top.get("budgets", []), "budgets"))
    ]
    names = [b.name for b in budgets]
    for name in names:
        if names.count(name) > 1:
            v.fail("budgets", f"budget name {name!r} is used twice")
    return budgets
