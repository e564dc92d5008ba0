"""Simulated jobs: a clock the demo moves, and the resources a job states it used.

The demo's pipeline and training jobs do real file work but simulate their size: a
retraining "uses" four GPUs without any GPU on the machine. ``RunTracker`` takes both its
clock and its resource meter as arguments, so the runs they produce are the wire records
a real job of that size would send.

>>> clock = SimClock(1000.0)
>>> meter = SimMeter(clock, cpu_cores=2.0, rss_bytes=1024, gpus=0.5)
>>> window = meter.open()
>>> clock.advance(60.0)
>>> usage = window.close()
>>> (usage.cpu_seconds, usage.peak_rss_bytes, usage.gpu_seconds, usage.wall_seconds)
(120.0, 1024, 30.0, 60.0)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from mlvitals.pipelines.lifecycle import Terminated
from mlvitals.pipelines.resources import ResourceMeter, Usage, Window


class SimClock:
    """Unix seconds that only move when told: ``now`` is set, :meth:`advance` adds."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _SimWindow(Window):
    """A measurement that reports the meter's stated use over the clock's elapsed time."""

    def __init__(self, meter: SimMeter) -> None:  # no process readings: nothing is measured
        self._sim = meter
        self._start = meter.clock()

    def close(self) -> Usage:
        wall = max(self._sim.clock() - self._start, 0.0)
        gpu = self._sim.gpus * wall if self._sim.gpus else None
        return Usage(self._sim.cpu_cores * wall, self._sim.rss_bytes, gpu, wall)


class SimMeter(ResourceMeter):
    """A meter for a simulated job: ``cpu_cores`` busy, ``rss_bytes`` resident and ``gpus``
    busy (GPU-seconds per second) for as long as ``clock`` says the job ran."""

    def __init__(
        self, clock: Callable[[], float], *, cpu_cores: float, rss_bytes: int, gpus: float = 0.0
    ) -> None:
        super().__init__(gpu=False)
        self.clock = clock
        self.cpu_cores = cpu_cores
        self.rss_bytes = rss_bytes
        self.gpus = gpus

    def open(self) -> Window:
        return _SimWindow(self)


def waiter(stop: threading.Event) -> Callable[[float], None]:
    """A real wait for a live job's step that ends the job as *aborted* (as SIGTERM would)
    when the demo stops while it runs."""

    def wait(seconds: float) -> None:
        if stop.wait(max(seconds, 0.0)):
            raise Terminated(signal.SIGTERM)

    return wait
