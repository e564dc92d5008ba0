"""The fleet's exposition on /metrics: the same samples prometheus_client would write for the
merged series, escaped labels, and bounded work for big fleets."""

from __future__ import annotations

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

from mlvitals.server.database import open_database
from mlvitals.server.serving.fleet import FleetExport
from mlvitals.sketches import COARSE_BOUNDS, QuantileSketch
from mlvitals.store import Store
from tests.alerts.helpers import T0, window_row


def seeded() -> tuple[Store, dict[tuple[str, str, str], list[float]]]:
    store = open_database(":memory:")
    rng = np.random.default_rng(7)
    truth: dict[tuple[str, str, str], list[float]] = {}
    rows = []
    for s, service in enumerate(["fraud", 'quote"d\\svc', "new\nline"]):
        for op in ("predict", "explain"):
            for k in range(5):
                values = rng.lognormal(-3 + s, 0.7, 30)
                truth.setdefault((service, "1", op), []).extend(values.tolist())
                rows.append(
                    window_row(
                        service, f"pod-{k % 2}", T0 + 10 * k, values, errors=k % 3, operation=op
                    )
                )
    store.insert("serving_windows", rows)
    return store, truth


def samples(text: str) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    return {
        (s.name, tuple(sorted(s.labels.items())), round(s.value, 9))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_exposition_has_the_samples_prometheus_client_writes_for_the_same_series() -> None:
    store, truth = seeded()
    export = FleetExport(store, clock=lambda: T0 + 60)
    ours = samples(export.text().decode())

    class Reference:
        def collect(self) -> list[Metric]:
            calls = CounterMetricFamily(
                "mlvitals_calls", "", labels=["service", "version", "operation", "outcome"]
            )
            duration = HistogramMetricFamily(
                "mlvitals_call_duration_seconds", "", labels=["service", "version", "operation"]
            )
            for key, values in sorted(truth.items()):
                sketch = QuantileSketch()
                sketch.add_many(values)
                errors = sum(k % 3 for k in range(5))
                calls.add_metric([*key, "ok"], len(values) - errors)
                calls.add_metric([*key, "error"], errors)
                calls.add_metric([*key, "client_error"], 0)
                cumulative = np.searchsorted(np.sort(values), COARSE_BOUNDS, side="right")
                buckets = [
                    (repr(b), float(n)) for b, n in zip(COARSE_BOUNDS, cumulative, strict=True)
                ]
                duration.add_metric(
                    list(key),
                    [*buckets, ("+Inf", float(len(values)))],
                    sum_value=float(np.sum(values)),
                )
            return [calls, duration]

    registry = CollectorRegistry()
    registry.register(Reference())
    reference = samples(generate_latest(registry).decode())
    ours_calls = {s for s in ours if s[0] == "mlvitals_calls_total"}
    assert ours_calls == {s for s in reference if s[0] == "mlvitals_calls_total"}
    # Buckets: exact counts, except values within the sketch's 1 % of a bound.
    ref_buckets = {(s[0], s[1]): s[2] for s in reference if s[0].endswith("_bucket")}
    our_buckets = {
        (s[0], s[1]): s[2] for s in ours if s[0].startswith("mlvitals_call_duration_seconds_bucket")
    }
    assert our_buckets.keys() == ref_buckets.keys()
    for key, n in ref_buckets.items():
        labels = dict(key[1])
        values = np.asarray(truth[(labels["service"], labels["version"], labels["operation"])])
        bound = float(labels["le"])
        near = int(np.sum(np.abs(values - bound) <= 0.011 * bound))
        assert abs(our_buckets[key] - n) <= near, (key, our_buckets[key], n)
    ref_sums = {s[1]: s[2] for s in reference if s[0] == "mlvitals_call_duration_seconds_sum"}
    our_sums = {s[1]: s[2] for s in ours if s[0] == "mlvitals_call_duration_seconds_sum"}
    assert our_sums.keys() == ref_sums.keys()
    for key, total in ref_sums.items():
        assert abs(our_sums[key] - total) <= 1e-9 * total


def test_a_slow_render_is_reused_for_a_while_and_a_fast_one_never() -> None:
    store, _ = seeded()
    export = FleetExport(store, clock=lambda: T0 + 60)
    first = export.text()
    store.insert("serving_windows", [window_row("late", "pod-9", T0 + 20, [0.1, 0.2])])
    assert b'service="late"' in export.text()  # a fast render: always current

    export.slow_render = -1.0  # every render now counts as slow
    export.min_reuse = 3600.0
    cached = export.text()
    store.insert("serving_windows", [window_row("later", "pod-9", T0 + 30, [0.1])])
    assert export.text() == cached and b'service="later"' not in cached
    assert first != cached
