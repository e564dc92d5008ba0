"""Prometheus exposition of a monitor, computed at scrape time by a custom collector.

No prometheus-client object is touched on the request path: a scrape reads the monitor's
cumulative totals (closed windows, the open window and the calls not yet taken from the
threads) and converts its sketches to fixed histogram buckets with
:func:`mlvitals.sketches.cumulative_buckets`.

Metrics (labels ``service``, ``version`` on all):

- ``mlvitals_calls_total{operation,outcome}`` with outcome ``ok``, ``error`` or ``client_error``
- ``mlvitals_call_failures_total{operation,error_type}``
- ``mlvitals_call_duration_seconds{operation}`` and ``mlvitals_call_cpu_seconds{operation}``
  (histograms)
- ``mlvitals_process_resident_memory_bytes``
- ``mlvitals_gpu_utilization_ratio{gpu}`` and ``mlvitals_gpu_memory_used_bytes{gpu}``
- ``mlvitals_sdk_folded_calls_total`` (calls counted under ``__other__``) and
  ``mlvitals_sdk_dropped_records_total`` (records the shipper dropped)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector as _PromCollector

from mlvitals.sketches import QuantileSketch, cumulative_buckets

if TYPE_CHECKING:
    from mlvitals.sdk.collector import Collector


class MonitorCollector(_PromCollector):
    """A prometheus-client collector over one monitor's totals."""

    def __init__(
        self,
        collector: Collector,
        *,
        bounds: Sequence[float],
        dropped: Callable[[], int],
    ) -> None:
        self._collector = collector
        self._bounds = bounds
        self._dropped = dropped

    def collect(self) -> Iterator[Metric]:
        snap = self._collector.snapshot()
        ident = self._collector.identity
        base = [ident.service, ident.version]
        op_labels = ["service", "version", "operation"]

        calls = CounterMetricFamily(
            "mlvitals_calls", "Calls by outcome.", labels=[*op_labels, "outcome"]
        )
        failures = CounterMetricFamily(
            "mlvitals_call_failures",
            "Failed calls by error type.",
            labels=[*op_labels, "error_type"],
        )
        duration = HistogramMetricFamily(
            "mlvitals_call_duration_seconds", "Call latency in seconds.", labels=op_labels
        )
        cpu = HistogramMetricFamily(
            "mlvitals_call_cpu_seconds", "CPU seconds per call.", labels=op_labels
        )
        for name, agg in sorted(snap.operations.items()):
            labels = [*base, name]
            errors = agg.errors
            ok = max(agg.calls - errors - agg.client_errors, 0)
            calls.add_metric([*labels, "ok"], ok)
            calls.add_metric([*labels, "error"], errors)
            calls.add_metric([*labels, "client_error"], agg.client_errors)
            for error_type, n in sorted(agg.failures.items()):
                failures.add_metric([*labels, error_type], n)
            duration.add_metric(labels, self._buckets(agg.latency), agg.latency.sum)
            cpu.add_metric(labels, self._buckets(agg.cpu), agg.cpu.sum)
        yield calls
        yield failures
        yield duration
        yield cpu

        rss = GaugeMetricFamily(
            "mlvitals_process_resident_memory_bytes",
            "Resident memory of the process.",
            labels=["service", "version"],
        )
        if snap.rss_bytes is not None:
            rss.add_metric(base, snap.rss_bytes)
        yield rss
        util = GaugeMetricFamily(
            "mlvitals_gpu_utilization_ratio",
            "GPU busy fraction (this process's share where NVML tells, else the device's).",
            labels=["service", "version", "gpu"],
        )
        memory = GaugeMetricFamily(
            "mlvitals_gpu_memory_used_bytes",
            "GPU memory used (by this process where NVML tells, else on the device).",
            labels=["service", "version", "gpu"],
        )
        for g in snap.gpus:
            if g.busy_fraction is not None:
                util.add_metric([*base, str(g.index)], g.busy_fraction)
            if g.memory_bytes is not None:
                memory.add_metric([*base, str(g.index)], g.memory_bytes)
        yield util
        yield memory
        folded = CounterMetricFamily(
            "mlvitals_sdk_folded_calls",
            "Calls counted under operation __other__ because max_series was reached.",
            labels=["service", "version"],
        )
        folded.add_metric(base, snap.folded_calls)
        yield folded
        dropped = CounterMetricFamily(
            "mlvitals_sdk_dropped_records",
            "Records the shipper dropped because its buffer was full or it was closed.",
            labels=["service", "version"],
        )
        dropped.add_metric(base, self._dropped())
        yield dropped

    def _buckets(self, sketch: QuantileSketch) -> list[tuple[str, float]]:
        return [(_le(b), n) for b, n in cumulative_buckets(sketch, self._bounds)]


def _le(bound: float) -> str:
    """A bucket's ``le`` label as Prometheus writes it: ``+Inf``, ``0.5``, ``1.0``."""
    return "+Inf" if bound == math.inf else repr(float(bound))


def metrics_asgi_app(registry: Any) -> Any:
    """prometheus-client's ASGI app, plus the lifespan protocol so it can run on its own
    (under uvicorn, or a test client) as well as mounted at ``/metrics``."""
    from prometheus_client import make_asgi_app

    inner = make_asgi_app(registry)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "lifespan":
            await inner(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app
