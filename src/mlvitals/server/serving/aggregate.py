"""Merging stored serving windows (or rollups) into one aggregate: a pure accumulator.

Counts add, peaks take the maximum, sketches merge exactly, so an aggregate of several
processes' windows equals, within the sketch's relative error, the figures of all their calls
taken together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from mlvitals.sketches.dense import DenseSketch

QUANTILES = (0.5, 0.9, 0.95, 0.99)


def _max(a: int | float | None, b: int | float | None) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _sum(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


@dataclass
class WindowAggregate:
    """Accumulates rows of ``serving_windows`` / ``serving_rollups``."""

    calls: int = 0
    errors: int = 0
    client_errors: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latency: DenseSketch = field(default_factory=DenseSketch)
    cpu: DenseSketch = field(default_factory=DenseSketch)
    cpu_seconds: float = 0.0
    peak_rss_bytes: int | None = None
    gpu_busy_seconds: float | None = None
    gpu_peak_memory_bytes: int | None = None
    peak_in_flight: int = 0

    def add_row(self, row: Mapping[str, Any]) -> None:
        self.calls += int(row["calls"])
        self.errors += int(row["errors"])
        self.client_errors += int(row["client_errors"])
        for name, n in orjson.loads(row["failures"]).items():
            self.failures[name] = self.failures.get(name, 0) + int(n)
        self.latency.add_dict(orjson.loads(row["latency"]))
        self.cpu.add_dict(orjson.loads(row["cpu"]))
        self.cpu_seconds += float(row["cpu_seconds"])
        self.peak_rss_bytes = _max(self.peak_rss_bytes, row["peak_rss_bytes"])
        self.gpu_busy_seconds = _sum(self.gpu_busy_seconds, row["gpu_busy_seconds"])
        self.gpu_peak_memory_bytes = _max(self.gpu_peak_memory_bytes, row["gpu_peak_memory_bytes"])
        self.peak_in_flight = max(self.peak_in_flight, int(row["peak_in_flight"]))

    def merge(self, other: WindowAggregate) -> None:
        self.calls += other.calls
        self.errors += other.errors
        self.client_errors += other.client_errors
        for name, n in other.failures.items():
            self.failures[name] = self.failures.get(name, 0) + n
        self.latency.merge(other.latency)
        self.cpu.merge(other.cpu)
        self.cpu_seconds += other.cpu_seconds
        self.peak_rss_bytes = _max(self.peak_rss_bytes, other.peak_rss_bytes)
        self.gpu_busy_seconds = _sum(self.gpu_busy_seconds, other.gpu_busy_seconds)
        self.gpu_peak_memory_bytes = _max(self.gpu_peak_memory_bytes, other.gpu_peak_memory_bytes)
        self.peak_in_flight = max(self.peak_in_flight, other.peak_in_flight)

    def as_row(self) -> dict[str, Any]:
        """The columns shared by ``serving_windows`` and ``serving_rollups``."""
        return {
            "calls": self.calls,
            "errors": self.errors,
            "client_errors": self.client_errors,
            "failures": orjson.dumps(self.failures, option=orjson.OPT_SORT_KEYS).decode(),
            "latency": orjson.dumps(self.latency.to_dict(packed=True)).decode(),
            "cpu": orjson.dumps(self.cpu.to_dict(packed=True)).decode(),
            "cpu_seconds": self.cpu_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "gpu_busy_seconds": self.gpu_busy_seconds,
            "gpu_peak_memory_bytes": self.gpu_peak_memory_bytes,
            "peak_in_flight": self.peak_in_flight,
        }

    def summary(self, seconds: float) -> dict[str, Any]:
        """The figures a chart or an alert rule reads, over ``seconds`` of wall time."""
        has_calls = self.latency.count > 0
        latency = self.latency.to_sketch() if has_calls else None
        return {
            "calls": self.calls,
            "calls_per_second": self.calls / seconds if seconds > 0 else None,
            "errors": self.errors,
            "client_errors": self.client_errors,
            "error_rate": self.errors / self.calls if self.calls else None,
            "failures": dict(sorted(self.failures.items())),
            **{
                f"latency_p{round(q * 100)}": latency.quantile(q) if latency is not None else None
                for q in QUANTILES
            },
            "latency_mean": self.latency.sum / self.latency.count if has_calls else None,
            "cpu_per_call": self.cpu_seconds / self.calls if self.calls else None,
            "cpu_p99": self.cpu.to_sketch().quantile(0.99) if self.cpu.count else None,
            "cpu_seconds": self.cpu_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "gpu_utilization": (
                self.gpu_busy_seconds / seconds
                if self.gpu_busy_seconds is not None and seconds > 0
                else None
            ),
            "gpu_peak_memory_bytes": self.gpu_peak_memory_bytes,
            "peak_in_flight": self.peak_in_flight,
        }
