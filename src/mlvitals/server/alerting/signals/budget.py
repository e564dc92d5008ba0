"""Signal of cost: budgets whose forecast spend is over the threshold. Placeholder until
the cost engine is wired in."""

from __future__ import annotations

from mlvitals.alerts.rules import Rule
from mlvitals.alerts.state import Sample
from mlvitals.server.alerting.signals.base import SignalUnavailable
from mlvitals.store import Store


def budget_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    raise SignalUnavailable("budget rules need the cost engine, not available yet")
