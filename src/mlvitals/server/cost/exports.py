"""Cost series on the server's ``/metrics``: cost so far in the current UTC day and month per
service, operation and pipeline (never per run or dataset), and where each budget stands.

One cost report over the current month serves every series of a scrape; the day's share of
a line that started before midnight counts in proportion to time, as budgets count it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mlvitals.cost.budgets import budget_status, load_budgets
from mlvitals.cost.config import load_config
from mlvitals.cost.lines import CostLine
from mlvitals.cost.timegrid import day_start, month_start, overlap
from mlvitals.server.cost.queries import all_budgets, cost_report
from mlvitals.settings import Settings
from mlvitals.store import Store

Group = tuple[str, str, str, str]  # category, service, operation, pipeline
_BUDGET_LABELS = ["budget", "scope", "subject", "period", "currency"]


class CostCollector(Collector):
    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float]) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        config = load_config(self._settings.rate_card or None)
        currency = config.card.currency
        report = cost_report(
            self._store,
            config,
            month_start(now),
            now,
            now,
            late_seconds=self._settings.late_seconds,
        )
        cost = GaugeMetricFamily(
            "mlvitals_cost",
            "Cost so far in the current UTC day or month (period), in the rate card's currency, "
            "by category (serving, run, storage), service, operation and pipeline.",
            labels=["period", "category", "service", "operation", "pipeline", "currency"],
        )
        for period, start in (("day", day_start(now)), ("month", month_start(now))):
            for group, amount in sorted(_by_group(report.lines, start, now).items()):
                cost.add_metric([period, *group, currency], amount)
        yield cost

        budgets = all_budgets(self._store, load_budgets(self._settings.budgets_file or None))
        spent = _budget_gauge("spent", "Spent so far in the budget's current period.")
        forecast = _budget_gauge("forecast", "Spend forecast for the budget's whole period.")
        limit = _budget_gauge("limit", "The budget's limit per period.")
        for budget in budgets:
            status = budget_status(budget, report.lines, now)
            labels = [budget.name, budget.scope, budget.subject, budget.period, currency]
            spent.add_metric(labels, status.spent)
            forecast.add_metric(labels, status.forecast)
            limit.add_metric(labels, budget.limit)
        yield from (spent, forecast, limit)


def _by_group(lines: tuple[CostLine, ...], start: float, now: float) -> dict[Group, float]:
    out: dict[Group, float] = defaultdict(float)
    for line in lines:
        length = line.end - line.start
        if length <= 0:
            continue
        share = overlap(line.start, line.end, start, now) / length
        if share > 0:
            key = (line.category, line.service, line.operation, line.pipeline)
            out[key] += line.amount * share
    return out


def _budget_gauge(name: str, help_text: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        f"mlvitals_budget_{name}",
        help_text + " In the rate card's currency.",
        labels=_BUDGET_LABELS,
    )


def export(store: Store, settings: Settings, clock: Callable[[], float]) -> Collector:
    return CostCollector(store, settings, clock)
