"""Data-check series on the server's ``/metrics``: per dataset, never per check.

The latest check of each dataset (verdict, share of drifted columns, failed validations,
when it ran) and how many checks passed and failed in all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mlvitals.server.quality.queries import check_counts, latest_checks
from mlvitals.settings import Settings
from mlvitals.store import Store


class QualityCollector(Collector):
    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        passed = _gauge("passed", "1 when the dataset's latest check passed, 0 when it failed.")
        drifted = _gauge(
            "drifted_columns_ratio", "Share of the tested columns that drifted (latest check)."
        )
        failures = _gauge("failures", "Failed validations of the dataset's latest check.")
        when = _gauge("last_timestamp_seconds", "When the dataset's latest check ran.")
        for check in sorted(latest_checks(self._store), key=lambda c: c["dataset"]):
            labels = [check["dataset"]]
            passed.add_metric(labels, float(check["passed"]))
            drifted.add_metric(labels, float(check["drifted_share"]))
            failures.add_metric(labels, float(check["failure_count"]))
            when.add_metric(labels, float(check["time"]))
        total = CounterMetricFamily(
            "mlvitals_data_checks",
            "Checks stored per dataset and verdict (passed, failed).",
            labels=["dataset", "verdict"],
        )
        for (dataset, ok), n in sorted(check_counts(self._store).items()):
            total.add_metric([dataset, "passed" if ok else "failed"], n)
        yield from (passed, drifted, failures, when, total)


def _gauge(name: str, help_text: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"mlvitals_data_check_{name}", help_text, labels=["dataset"])


def export(store: Store, settings: Settings, clock: Callable[[], float]) -> Collector:
    return QualityCollector(store)
