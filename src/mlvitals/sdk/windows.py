"""Per-operation aggregates: one window's, and the running totals Prometheus reads.

The collector folds the raw calls it takes from the threads into an :class:`OpAggregate`:
latency and CPU sketches (vectorised ``add_many``), failures by error type, client errors and
each call's (start, end) interval, from which the peak number of calls in flight is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlvitals.sdk.recorder import Series
from mlvitals.sketches import QuantileSketch


class OpAggregate:
    """What one operation did over a span of time (a window, or since start)."""

    __slots__ = ("_ends", "_starts", "alpha", "client_errors", "cpu", "failures", "latency")

    def __init__(self, alpha: float = 0.01, *, intervals: bool = True) -> None:
        self.alpha = alpha
        self.latency = QuantileSketch(alpha)
        self.cpu = QuantileSketch(alpha)
        self.failures: dict[str, int] = {}
        self.client_errors = 0
        # Intervals are kept only for a window: 16 bytes per call, dropped when it closes.
        self._starts: list[Any] | None = [] if intervals else None
        self._ends: list[Any] = []

    @property
    def calls(self) -> int:
        return self.latency.count

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of all calls: the measured calls' sum, scaled up to every call where
        only a sample was measured (the ASGI middleware's ``cpu_sample_interval``)."""
        measured = self.cpu.count
        if not measured:
            return 0.0
        return self.cpu.sum * (self.calls / measured) if measured < self.calls else self.cpu.sum

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    def fold(self, series: Iterable[Series]) -> None:
        """Add raw calls taken from the threads."""
        import numpy as np

        for s in series:
            n = len(s.cpus)
            if n:
                lat = np.asarray(s.latencies[:n], dtype=np.float64)
                self.latency.add_many(lat)  # add_many counts a negative as 0
                cpu = np.asarray(s.cpus[:n], dtype=np.float64)
                measured = cpu[~np.isnan(cpu)]  # NaN: a call whose CPU was not sampled
                self.cpu.add_many(measured)
                if self._starts is not None:
                    ends = np.asarray(s.ends[:n], dtype=np.float64)
                    self._ends.append(ends)
                    self._starts.append(ends - lat)
            for name, count in s.failures.items():
                self.failures[name] = self.failures.get(name, 0) + count
            self.client_errors += s.client_errors

    def merge(self, other: OpAggregate) -> None:
        self.latency.merge(other.latency)
        self.cpu.merge(other.cpu)
        for name, count in other.failures.items():
            self.failures[name] = self.failures.get(name, 0) + count
        self.client_errors += other.client_errors

    def copy(self) -> OpAggregate:
        new = OpAggregate(self.alpha, intervals=False)
        new.merge(self)
        return new

    def peak_in_flight(self) -> int:
        """The most calls that were in progress at one moment, among the calls folded in.

        Calls that end in a later window are not among them: a call running across the end
        of a window counts towards the window in which it ends.
        """
        if not self._starts:
            return 0
        import numpy as np

        starts = np.sort(np.concatenate(self._starts))
        ends = np.sort(np.concatenate(self._ends))
        # Just after the k-th start (0-based), k + 1 calls have started and those whose end is
        # at or before it have ended: an end equal to a start means back-to-back, not
        # overlapping. The peak is at one of the starts.
        started = np.arange(1, starts.size + 1)
        ended = np.searchsorted(ends, starts, side="right")
        return int((started - ended).max())


def window_record(
    *,
    service: str,
    version: str,
    instance: str,
    operation: str,
    start: float,
    length: float,
    agg: OpAggregate,
    peak_rss_bytes: int | None,
    gpu_busy_seconds: float | None,
    gpu_peak_memory_bytes: int | None,
) -> dict[str, Any]:
    """A ``serving_window`` record, as ``POST /api/v1/ingest`` takes it."""
    record: dict[str, Any] = {
        "kind": "serving_window",
        "service": service,
        "version": version,
        "operation": operation,
        "instance": instance,
        "start": start,
        "length": length,
        "calls": agg.calls,
        "failures": dict(agg.failures),
        "client_errors": agg.client_errors,
        "latency": agg.latency.to_dict(packed=True),
        "cpu": agg.cpu.to_dict(packed=True),
        "cpu_seconds": agg.cpu_seconds,
        "peak_in_flight": agg.peak_in_flight(),
    }
    if peak_rss_bytes is not None:
        record["peak_rss_bytes"] = peak_rss_bytes
    if gpu_busy_seconds is not None:
        record["gpu_busy_seconds"] = gpu_busy_seconds
    if gpu_peak_memory_bytes is not None:
        record["gpu_peak_memory_bytes"] = gpu_peak_memory_bytes
    return record
