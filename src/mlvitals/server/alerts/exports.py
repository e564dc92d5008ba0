"""Alert series on the server's ``/metrics``, in Prometheus' own style: ``ALERTS`` (1 per
pending or firing alert, with ``alertname``, ``alertstate`` and the alert's labels) and
``ALERTS_FOR_STATE`` (when each such alert became active, in Unix seconds). Resolved alerts
are not exported, as Prometheus does not export them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from mlvitals.alerts.state import FIRING, PENDING
from mlvitals.server.alerts.persistence import load_states
from mlvitals.settings import Settings
from mlvitals.store import Store

_INVALID = re.compile(r"[^a-zA-Z0-9_]")


class AlertsCollector(Collector):
    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        alerts = Metric("ALERTS", "Pending and firing alerts (1 each).", "gauge")
        active = Metric(
            "ALERTS_FOR_STATE", "When each pending or firing alert became active.", "gauge"
        )
        states = [s for rule in load_states(self._store).values() for s in rule.values()]
        for s in sorted(states, key=lambda s: (s.rule, s.fingerprint)):
            if s.state not in (PENDING, FIRING):
                continue
            labels = prometheus_labels(s.labels)
            labels["alertname"] = s.rule
            alerts.add_sample("ALERTS", {**labels, "alertstate": s.state}, 1.0)
            active.add_sample("ALERTS_FOR_STATE", labels, s.active_at)
        yield alerts
        yield active


def prometheus_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Alert labels as valid Prometheus label names (other characters become ``_``;
    names Prometheus reserves, ``__*``, are left out).

    >>> prometheus_labels({"service": "fraud", "team.name": "ml", "__x": "y"})
    {'service': 'fraud', 'team_name': 'ml'}
    """
    out: dict[str, str] = {}
    for name, value in labels.items():
        clean = _INVALID.sub("_", name)
        if clean[:1].isdigit():
            clean = "_" + clean
        if clean and not clean.startswith("__"):
            out[clean] = str(value)
    return out


def export(store: Store, settings: Settings, clock: Callable[[], float]) -> Collector:
    return AlertsCollector(store)
