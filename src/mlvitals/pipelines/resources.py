"""Resources a run or a step used: CPU-seconds, peak RSS, GPU-seconds, wall time.

- CPU-seconds: user + system time of this process (all threads) and of its children that
  were waited for, from ``os.times()`` at the start and the end of the window.
- Peak RSS: the largest resident set of this process during the window. A sampling thread
  (one per meter, every ``interval`` seconds) catches peaks of long windows; the
  process's lifetime high-water mark (``getrusage``) makes it exact whenever the process
  reached a new peak during the window, and the start and end values bound short ones.
- GPU-seconds: where NVML is installed and lists this process on a GPU, the sampled time
  it held a compute context, summed over GPUs; ``None`` when no GPU was seen.

>>> meter = ResourceMeter()
>>> window = meter.open()
>>> usage = window.close()
>>> usage.cpu_seconds >= 0 and usage.peak_rss_bytes > 0
True
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import psutil

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

# ru_maxrss is in kilobytes on Linux, in bytes on macOS.
_MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024
_IDLE_EXIT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_seconds: float
    peak_rss_bytes: int | None
    gpu_seconds: float | None
    wall_seconds: float

    def to_wire(self) -> dict[str, Any]:
        return {
            "cpu_seconds": round(self.cpu_seconds, 6),
            "peak_rss_bytes": self.peak_rss_bytes,
            "gpu_seconds": None if self.gpu_seconds is None else round(self.gpu_seconds, 6),
            "wall_seconds": round(self.wall_seconds, 6),
        }


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children so far."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def max_rss() -> int | None:
    """The lifetime peak RSS of this process in bytes."""
    if resource is None:  # pragma: no cover - Windows
        return None
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * _MAXRSS_UNIT


class Window:
    """An open measurement; :meth:`close` returns its :class:`Usage` (once)."""

    __slots__ = ("_cpu0", "_maxrss0", "_meter", "_t0", "gpu_seconds", "gpu_seen", "peak")

    def __init__(self, meter: ResourceMeter) -> None:
        self._meter = meter
        self._t0 = time.perf_counter()
        self._cpu0 = cpu_seconds()
        self._maxrss0 = max_rss()
        self.peak = meter.rss()
        self.gpu_seconds = 0.0
        self.gpu_seen = False

    def close(self) -> Usage:
        wall = time.perf_counter() - self._t0
        cpu = cpu_seconds() - self._cpu0
        self._meter.release(self)
        peak = max(self.peak, self._meter.rss())
        maxrss = max_rss()
        if maxrss is not None and self._maxrss0 is not None and maxrss > self._maxrss0:
            # The process set a new lifetime peak inside this window: that is our peak.
            peak = max(peak, maxrss)
        gpu = self.gpu_seconds if self.gpu_seen else None
        return Usage(max(cpu, 0.0), peak or None, gpu, wall)


class ResourceMeter:
    """Opens measurement windows; one sampling thread serves all open windows."""

    def __init__(self, interval: float = 0.1, *, gpu: bool = True) -> None:
        self.interval = interval
        self._process = psutil.Process()
        self._windows: set[Window] = set()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._gpu = _GpuProbe() if gpu else None

    def rss(self) -> int:
        try:
            return int(self._process.memory_info().rss)
        except psutil.Error:
            return 0

    def open(self) -> Window:
        window = Window(self)
        with self._lock:
            self._windows.add(window)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._sample, name="mlvitals-resources", daemon=True
                )
                self._thread.start()
            self._wake.notify()
        return window

    def release(self, window: Window) -> None:
        with self._lock:
            self._windows.discard(window)

    def _sample(self) -> None:
        last = time.perf_counter()
        while True:
            with self._lock:
                while not self._windows:
                    # Idle for a while: end the thread (open() starts a new one), so that
                    # short-lived meters leave no thread behind.
                    if not self._wake.wait(_IDLE_EXIT_SECONDS) and not self._windows:
                        self._thread = None
                        return
                    last = time.perf_counter()
            time.sleep(self.interval)
            now = time.perf_counter()
            elapsed, last = now - last, now
            rss = self.rss()
            gpus = self._gpu.devices_in_use() if self._gpu is not None else 0
            with self._lock:
                for w in self._windows:
                    if rss > w.peak:
                        w.peak = rss
                    if gpus:
                        w.gpu_seen = True
                        w.gpu_seconds += elapsed * gpus


class _GpuProbe:
    """How many GPUs list this process (or a child) as a compute process, through NVML."""

    def __init__(self) -> None:
        self._handles: list[Any] = []
        self._nvml: Any = None
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
        except Exception:  # no NVML library, no driver or no GPU: GPU-seconds stay None
            self._handles = []

    def devices_in_use(self) -> int:
        if not self._handles:
            return 0
        pids = {os.getpid()}
        with contextlib.suppress(psutil.Error):
            pids.update(c.pid for c in psutil.Process().children(recursive=True))
        used = 0
        for handle in self._handles:
            try:
                procs = self._nvml.nvmlDeviceGetComputeRunningProcesses(handle)
            except Exception:
                continue
            if any(p.pid in pids for p in procs):
                used += 1
        return used
