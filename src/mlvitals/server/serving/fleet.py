"""Fleet-wide serving series on the server's ``/metrics``, under the SDK's metric names.

Counters must only grow, and a scrape must stay cheap however long the history: hours the
rollup has made final are merged into a per-process cache once; each scrape adds only the
recent tail (hourly rollups not yet final, then raw windows past the last rollup pass).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from mlvitals.server.serving.aggregate import WindowAggregate
from mlvitals.server.serving.rollup import rollup_state
from mlvitals.sketches import DEFAULT_BOUNDS, cumulative_buckets
from mlvitals.store import Store

Key = tuple[str, str, str]
_LABELS = ["service", "version", "operation"]


class FleetCollector(Collector):
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._final: dict[Key, WindowAggregate] = {}
        self._final_until = float("-inf")
        self._lock = threading.Lock()

    def totals(self) -> dict[Key, WindowAggregate]:
        """Every stored call, merged per (service, version, operation)."""
        with self._lock:
            state = rollup_state(self._store).get(3600)
            if state is not None and state.final_until > self._final_until:
                rows = self._store.fetch(
                    "SELECT * FROM serving_rollups WHERE resolution = 3600"
                    " AND start >= ? AND start < ?",
                    (max(self._final_until, -1e300), state.final_until),
                )
                _merge_rows(self._final, rows)
                self._final_until = state.final_until
            totals = {k: _copy(v) for k, v in self._final.items()}
        tail: list[dict[str, Any]] = []
        if state is not None:
            tail += self._store.fetch(
                "SELECT * FROM serving_rollups WHERE resolution = 3600"
                " AND start >= ? AND start < ?",
                (state.final_until, state.rolled_until),
            )
            tail += self._store.fetch(
                "SELECT * FROM serving_windows WHERE start >= ?", (state.rolled_until,)
            )
        else:
            tail += self._store.fetch("SELECT * FROM serving_windows")
        _merge_rows(totals, tail)
        return totals

    def collect(self) -> Iterator[Metric]:
        totals = self.totals()
        calls = CounterMetricFamily(
            "mlvitals_calls",
            "Calls by outcome (ok, error, client_error).",
            labels=[*_LABELS, "outcome"],
        )
        failures = CounterMetricFamily(
            "mlvitals_call_failures", "Failed calls by error type.", labels=[*_LABELS, "error_type"]
        )
        duration = HistogramMetricFamily(
            "mlvitals_call_duration_seconds", "Call latency.", labels=_LABELS
        )
        cpu = HistogramMetricFamily(
            "mlvitals_call_cpu_seconds", "CPU time per call.", labels=_LABELS
        )
        for key, agg in sorted(totals.items()):
            labels = list(key)
            ok = agg.calls - agg.errors - agg.client_errors
            calls.add_metric([*labels, "ok"], max(ok, 0))
            calls.add_metric([*labels, "error"], agg.errors)
            calls.add_metric([*labels, "client_error"], agg.client_errors)
            for error_type, n in sorted(agg.failures.items()):
                failures.add_metric([*labels, error_type], n)
            for family, dense in ((duration, agg.latency), (cpu, agg.cpu)):
                sketch = dense.to_sketch()
                buckets = cumulative_buckets(sketch, DEFAULT_BOUNDS)
                family.add_metric(
                    labels,
                    [(_le(b), float(n)) for b, n in buckets],
                    sum_value=sketch.sum,
                )
        yield calls
        yield failures
        yield duration
        yield cpu
        yield from self._resources()

    def _resources(self) -> Iterator[Metric]:
        """The latest sample of each instance seen in the last ten minutes, unless that
        sample says the instance stopped."""
        since = self._clock() - 600
        rows = self._store.fetch(
            "SELECT s.service, s.instance, s.rss_bytes, s.gpus FROM instance_samples s"
            " JOIN (SELECT service, instance, MAX(time) AS t FROM instance_samples"
            " WHERE time >= ? GROUP BY service, instance) m"
            " ON s.service = m.service AND s.instance = m.instance AND s.time = m.t"
            " WHERE s.stopped = 0",
            (since,),
        )
        rss = GaugeMetricFamily(
            "mlvitals_process_resident_memory_bytes",
            "Resident memory of each instance (latest sample).",
            labels=["service", "instance"],
        )
        util = GaugeMetricFamily(
            "mlvitals_gpu_utilization_ratio",
            "GPU busy fraction (latest sample).",
            labels=["service", "instance", "gpu"],
        )
        mem = GaugeMetricFamily(
            "mlvitals_gpu_memory_used_bytes",
            "GPU memory in use (latest sample).",
            labels=["service", "instance", "gpu"],
        )
        for r in rows:
            if r["rss_bytes"] is not None:
                rss.add_metric([r["service"], r["instance"]], float(r["rss_bytes"]))
            for g in json.loads(r["gpus"]):
                labels = [r["service"], r["instance"], str(g["index"])]
                if g.get("utilization") is not None:
                    util.add_metric(labels, float(g["utilization"]))
                if g.get("memory_used_bytes") is not None:
                    mem.add_metric(labels, float(g["memory_used_bytes"]))
        yield rss
        yield util
        yield mem


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _copy(agg: WindowAggregate) -> WindowAggregate:
    out = WindowAggregate()
    out.merge(agg)
    return out


def _merge_rows(into: dict[Key, WindowAggregate], rows: list[dict[str, Any]]) -> None:
    for row in rows:
        key = (row["service"], row["version"], row["operation"])
        agg = into.get(key)
        if agg is None:
            agg = into[key] = WindowAggregate()
        agg.add_row(row)
