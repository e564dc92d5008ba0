"""Signals of data quality: failed checks and drift. Placeholder until the quality engine
stores check results."""

from __future__ import annotations

from mlvitals.alerts.rules import Rule
from mlvitals.alerts.state import Sample
from mlvitals.server.alerting.signals.base import SignalUnavailable
from mlvitals.store import Store


def check_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    raise SignalUnavailable("check_failed rules need stored check results, not available yet")


def drift_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    raise SignalUnavailable("drift rules need stored check results, not available yet")
