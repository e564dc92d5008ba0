"""Signal of cost: budgets whose forecast spend this period is over ``threshold`` times
their limit (value: forecast / limit), from the cost engine's budget statuses.

Budgets come from the budgets file and the API (as on the cost page); prices from the rate
card. Both are settings, so the server builds this signal with :func:`budget_signal_for`.
"""

from __future__ import annotations

from mlvitals.alerts.rules import BudgetSpec, Rule
from mlvitals.alerts.state import Sample
from mlvitals.cost.budgets import load_budgets
from mlvitals.cost.config import load_config
from mlvitals.server.alerts.signal import Signal
from mlvitals.server.cost.queries import all_budgets, budget_statuses
from mlvitals.store import Store


def budget_signal_for(rate_card: str, budgets_file: str, late_seconds: float = 7200.0) -> Signal:
    """The budget signal for a rate card and budgets file ("" for the defaults / none)."""

    def budget_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
        spec = rule.spec
        assert isinstance(spec, BudgetSpec)
        budgets = all_budgets(store, load_budgets(budgets_file))
        if spec.budget is not None:
            budgets = [b for b in budgets if b.name == spec.budget]
        if not budgets:
            return []
        config = load_config(rate_card)
        samples = []
        for status in budget_statuses(store, config, budgets, now, late_seconds=late_seconds):
            b = status.budget
            if b.limit <= 0:
                continue
            labels = {"budget": b.name, "scope": b.scope}
            if b.subject:
                labels["subject"] = b.subject
            info = {
                "spent": round(status.spent, 2),
                "forecast": round(status.forecast, 2),
                "limit": b.limit,
                "period": b.period,
                "currency": config.card.currency,
            }
            samples.append(Sample(labels, status.forecast / b.limit, info=info))
        return samples

    return budget_signal


budget_signal = budget_signal_for("", "")
