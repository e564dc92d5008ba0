"""The collector: closes windows, samples resources and hands records to a sink.

It runs on one background daemon thread (or is driven by hand with ``tick()``). Each tick
takes the calls buffered by every thread, folds them into the open window, reads RSS and
GPUs, and once the window's end has passed emits one ``serving_window`` record per operation
and, once the process is a service instance (``serving``), one ``instance_sample``: a
process that never tracked a call (a batch job) sends no serving records at all, so the
server never expects it to keep reporting. Windows are aligned to multiples of their length
in wall-clock time; a call belongs to the window that is open when the collector takes it,
which is at most the collector's wake-up delay (milliseconds) after it ends.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlvitals.sdk.gpu import GpuReading
from mlvitals.sdk.recorder import OTHER, Recorder, Taken
from mlvitals.sdk.resources import ResourceSampler, Tick
from mlvitals.sdk.windows import OpAggregate, window_record

log = logging.getLogger("mlvitals.sdk")

Records = list[dict[str, Any]]

_MIN_LENGTH = 1e-6


@dataclass(frozen=True, slots=True)
class Identity:
    service: str
    version: str
    instance: str


@dataclass(slots=True)
class Snapshot:
    """Cumulative per-operation totals since start, and the latest resource readings."""

    operations: dict[str, OpAggregate]
    rss_bytes: int | None
    gpus: tuple[GpuReading, ...]

    @property
    def folded_calls(self) -> int:
        other = self.operations.get(OTHER)
        return other.calls if other is not None else 0


class Collector:
    def __init__(
        self,
        *,
        identity: Identity,
        recorder: Recorder,
        sampler: ResourceSampler,
        clock: Callable[[], float],
        window: float,
        alpha: float = 0.01,
        serving: bool = False,
    ) -> None:
        if not 0 < window <= 86400:
            raise ValueError(f"window must be between 0 and 86400 seconds, got {window}")
        self.identity = identity
        # A service instance from the start, or from the first window with calls.
        self.serving = serving
        self._last_sample = float("-inf")
        self.window = window
        self.alpha = alpha
        self._recorder = recorder
        self._sampler = sampler
        self._clock = clock
        self._lock = threading.Lock()
        self._reset(clock())

    def _reset(self, now: float) -> None:
        self._floor = now
        self._open_window(now)
        self._totals: dict[str, OpAggregate] = {}
        self._last_tick_time = now
        self._last_rss: int | None = None

    def after_fork(self, identity: Identity, sampler: ResourceSampler) -> None:
        """In a forked child: forget the parent's windows, totals and lock."""
        self._lock = threading.Lock()
        self.identity = identity
        self._sampler = sampler
        self._reset(self._clock())

    def close(self) -> None:
        self._sampler.close()

    @property
    def window_end(self) -> float:
        return self._end

    def _open_window(self, now: float) -> None:
        start = max(math.floor(now / self.window) * self.window, self._floor)
        self._start = start
        self._end = (math.floor(start / self.window) + 1) * self.window
        self._ops: dict[str, OpAggregate] = {}
        self._peak_rss: int | None = None
        self._gpu_busy: float | None = None
        self._gpu_peak_memory: int | None = None

    # -- the work of one tick ------------------------------------------------------------------

    def tick(self, *, force: bool = False, stopping: bool = False) -> Records:
        """Take buffered calls, sample resources, and close the window if it has ended.

        ``force`` also closes the open window early (for ``flush()`` and ``close()``): it is
        split at now, and the rest of it becomes a window of its own. ``stopping`` (a clean
        shutdown) forces, and ends a service instance's records with a sample that says it
        stopped.
        """
        out = self._tick(force or stopping)
        if stopping and self.serving:
            with self._lock:
                if out and out[-1]["kind"] == "instance_sample":
                    out[-1]["stopped"] = True
                else:
                    out.append(self._sample(self._clock(), stopped=True))
        return out

    def _tick(self, force: bool) -> Records:
        with self._lock:
            now = self._clock()
            # Wait for a write in progress only when a window closes; otherwise its table
            # is folded in at the next tick.
            self._fold(self._recorder.take(wait=force or now >= self._end))
            reading = self._sampler.tick()
            self._peaks(reading)
            busy, since = reading.gpu_busy, self._last_tick_time
            self._last_tick_time = now
            out: Records = []
            if now >= self._end:
                self._add_gpu_busy(busy, since, self._end)
                out += self._close(self._end - self._start, now)
                self._floor = self._end
                self._open_window(now)
                self._add_gpu_busy(busy, since, now)
            else:
                self._add_gpu_busy(busy, since, now)
                if force and (now > self._start or self._ops):
                    # A clock that did not move still gets a (tiny) window of its own, and
                    # the next one starts after it: no two windows share a start.
                    length = max(now - self._start, _MIN_LENGTH)
                    out += self._close(length, now)
                    self._floor = self._start + length
                    self._open_window(self._floor)
            return out

    def _fold(self, taken: Taken) -> None:
        for operation, series in taken.series.items():
            agg = self._ops.get(operation)
            if agg is None:
                agg = self._ops[operation] = OpAggregate(self.alpha)
            agg.fold(series)

    def _peaks(self, reading: Tick) -> None:
        if reading.rss_bytes is not None:
            self._last_rss = reading.rss_bytes
            self._peak_rss = max(self._peak_rss or 0, reading.rss_bytes)
        memory = reading.gpu_memory_bytes
        if memory is not None:
            self._gpu_peak_memory = max(self._gpu_peak_memory or 0, memory)

    def _add_gpu_busy(self, busy: float | None, since: float, until: float) -> None:
        """GPU busy time over (since, until], counted for the part inside the open window."""
        if busy is None:
            return
        elapsed = max(0.0, until - max(since, self._start))
        self._gpu_busy = (self._gpu_busy or 0.0) + busy * elapsed

    def _close(self, length: float, now: float) -> Records:
        ident = self.identity
        out: Records = []
        total_latency = sum(a.latency.sum for a in self._ops.values())
        for operation, agg in sorted(self._ops.items()):
            gpu_busy = None
            if self._gpu_busy is not None:
                # GPU time is the process's; each operation gets its share of call time.
                share = agg.latency.sum / total_latency if total_latency > 0 else 0.0
                gpu_busy = self._gpu_busy * share
            out.append(
                window_record(
                    service=ident.service,
                    version=ident.version,
                    instance=ident.instance,
                    operation=operation,
                    start=self._start,
                    length=length,
                    agg=agg,
                    peak_rss_bytes=self._peak_rss,
                    gpu_busy_seconds=gpu_busy,
                    gpu_peak_memory_bytes=self._gpu_peak_memory,
                )
            )
            total = self._totals.get(operation)
            if total is None:
                total = self._totals[operation] = OpAggregate(self.alpha, intervals=False)
            total.merge(agg)
        if self._ops:
            self.serving = True
        if self.serving:
            out.append(self._sample(now))
        return out

    def _sample(self, now: float, *, stopped: bool = False) -> dict[str, Any]:
        # Samples of one instance are keyed by time: a stop in the same clock reading as
        # the last window's sample gets a time of its own.
        now = max(now, math.nextafter(self._last_sample, math.inf))
        self._last_sample = now
        ident = self.identity
        sample = self._sampler.instance_sample(
            service=ident.service, version=ident.version, instance=ident.instance, time=now
        )
        if stopped:
            sample["stopped"] = True
        return sample

    # -- what a Prometheus scrape reads ----------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Totals since start, including the open window and calls not yet taken."""
        with self._lock:
            ops = {name: agg.copy() for name, agg in self._totals.items()}
            for name, agg in self._ops.items():
                ops.setdefault(name, OpAggregate(self.alpha, intervals=False)).merge(agg)
            for name, series in self._recorder.peek().series.items():
                ops.setdefault(name, OpAggregate(self.alpha, intervals=False)).fold(series)
            return Snapshot(operations=ops, rss_bytes=self._last_rss, gpus=self._sampler.last_gpus)


class CollectorThread:
    """Runs ``collector.tick()`` on a daemon thread and passes records to ``sink``."""

    def __init__(
        self,
        collector: Collector,
        sink: Callable[[Records], None],
        *,
        tick_interval: float,
        clock: Callable[[], float],
    ) -> None:
        self._collector = collector
        self._sink = sink
        self._interval = tick_interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                t = threading.Thread(target=self._run, name="mlvitals-collector", daemon=True)
                t.start()
                self._thread = t

    def _run(self) -> None:
        while True:
            until_end = self._collector.window_end - self._clock()
            delay = min(self._interval, max(until_end, 0.0)) + 0.001
            if self._stop.wait(delay):
                return
            try:
                records = self._collector.tick()
                if records:
                    self._sink(records)
            except Exception:  # the collector must outlive any bug in one tick
                log.exception("mlvitals collector tick failed")

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)

    def after_fork(self) -> None:
        """In a forked child: the thread did not survive the fork; start anew, lazily."""
        self._stop = threading.Event()
        self._start_lock = threading.Lock()
        self._thread = None
