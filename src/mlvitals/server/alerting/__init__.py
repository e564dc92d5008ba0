"""Alerting on the server: signals over the store, the evaluation loop, persistence of alert
state, silences, the delivery log and the queries the API, CLI and dashboard share."""

from mlvitals.server.alerting.evaluator import CycleReport, Evaluator

__all__ = ["CycleReport", "Evaluator"]
