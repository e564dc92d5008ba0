"""Signals, one per rule kind: what the store says about each watched label set now.

>>> sorted(SIGNALS)[:3]
['absence', 'availability', 'budget']
"""

from __future__ import annotations

from mlvitals.server.alerting.signals.base import Signal, SignalUnavailable
from mlvitals.server.alerting.signals.budget import budget_signal, budget_signal_for
from mlvitals.server.alerting.signals.environment import environment_signal
from mlvitals.server.alerting.signals.liveness import absence_signal, availability_signal
from mlvitals.server.alerting.signals.pipelines import pipeline_signal
from mlvitals.server.alerting.signals.quality import check_signal, drift_signal
from mlvitals.server.alerting.signals.serving import burn_rate_signal, serving_signal

SIGNALS: dict[str, Signal] = {
    "serving": serving_signal,
    "absence": absence_signal,
    "availability": availability_signal,
    "burn_rate": burn_rate_signal,
    "pipeline": pipeline_signal,
    "environment_changed": environment_signal,
    "check_failed": check_signal,
    "drift": drift_signal,
    "budget": budget_signal,
}

__all__ = ["SIGNALS", "Signal", "SignalUnavailable", "budget_signal_for"]
