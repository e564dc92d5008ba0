"""GPU readings through NVML (the ``gpu`` extra: ``pip install 'mlvitals[gpu]'``).

Without the extra, without a driver or without a GPU, :class:`GpuSampler` is simply disabled:
every reading is empty and nothing fails. Each NVML call is guarded on its own, since drivers
and devices support different subsets (per-process utilization needs a Maxwell or newer GPU
and is not available inside some containers).

The ``nvml`` argument takes any module-like object with pynvml's functions, so the sampler
runs against a fake in tests.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("mlvitals.sdk")


@dataclass(frozen=True, slots=True)
class GpuReading:
    """One device at one moment. Fractions are 0-1; ``None`` where NVML gave no answer."""

    index: int
    name: str
    utilization: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    process_utilization: float | None
    process_memory_bytes: int | None

    @property
    def busy_fraction(self) -> float | None:
        """This process's share of the device if known, else the whole device's."""
        if self.process_utilization is not None:
            return self.process_utilization
        return self.utilization

    @property
    def memory_bytes(self) -> int | None:
        """This process's memory on the device if known, else the device's used memory."""
        if self.process_memory_bytes is not None:
            return self.process_memory_bytes
        return self.memory_used_bytes

    def to_wire(self) -> dict[str, Any]:
        """The ``gpus`` entry of an ``instance_sample`` record (unknown fields left out)."""
        out: dict[str, Any] = {"index": self.index, "name": self.name[:200]}
        for key in (
            "utilization",
            "memory_used_bytes",
            "memory_total_bytes",
            "process_utilization",
            "process_memory_bytes",
        ):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class GpuSampler:
    """Reads every visible GPU; this process's utilization and memory where NVML has them.

    ``nvml``: ``None`` imports pynvml if installed; ``False`` disables GPU readings; any
    other object is used as the NVML module. ``pid``: the process whose share is read
    (default: this one).

    >>> GpuSampler(nvml=False).read()
    []
    """

    def __init__(self, nvml: Any = None, pid: int | None = None) -> None:
        self.pid = os.getpid() if pid is None else pid
        self._source = nvml
        self._started = nvml is False  # False: never start
        self._nvml: Any = None
        self._handles: list[Any] = []
        self._names: list[str] = []
        self._last_seen: list[int] = []

    def _start(self) -> None:
        """Load and initialise NVML on first use, on the collector thread (after a fork too)."""
        self._started = True
        nvml = self._source
        if nvml is None:
            try:
                import pynvml
            except ImportError:
                return
            nvml = pynvml
        try:
            nvml.nvmlInit()
            count = int(nvml.nvmlDeviceGetCount())
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception as exc:  # no driver, no device, or a broken install
            log.debug("NVML unavailable, GPU fields left out: %s", exc)
            return
        self._nvml = nvml
        self._handles = handles
        self._names = [_name(nvml, h) for h in handles]
        self._last_seen = [0] * count

    @property
    def enabled(self) -> bool:
        if not self._started:
            self._start()
        return self._nvml is not None and bool(self._handles)

    def read(self) -> list[GpuReading]:
        if not self.enabled:
            return []
        nvml = self._nvml
        out = []
        for i, h in enumerate(self._handles):
            util = _try(lambda h=h: nvml.nvmlDeviceGetUtilizationRates(h).gpu / 100.0)
            mem = _memory_info(nvml, h)
            out.append(
                GpuReading(
                    index=i,
                    name=self._names[i],
                    utilization=_fraction(util),
                    memory_used_bytes=int(mem.used) if mem is not None else None,
                    memory_total_bytes=int(mem.total) if mem is not None else None,
                    process_utilization=self._process_utilization(i, h),
                    process_memory_bytes=self._process_memory(h),
                )
            )
        return out

    def _process_utilization(self, i: int, handle: Any) -> float | None:
        nvml = self._nvml
        try:
            samples = nvml.nvmlDeviceGetProcessUtilization(handle, self._last_seen[i])
        except Exception as exc:
            # NVML answers "not found" when no process used the GPU since the last sample.
            if "not found" in str(exc).lower():
                return 0.0
            return None
        mine = [s for s in samples if int(s.pid) == self.pid]
        if samples:
            self._last_seen[i] = max(int(s.timeStamp) for s in samples)
        if not mine:
            return 0.0
        return _fraction(sum(float(s.smUtil) for s in mine) / len(mine) / 100.0)

    def _process_memory(self, handle: Any) -> int | None:
        nvml = self._nvml
        found = False
        total = 0
        for fn in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
            procs = _try(lambda fn=fn: getattr(nvml, fn)(handle))
            if procs is None:
                continue
            found = True
            for p in procs:
                used = getattr(p, "usedGpuMemory", None)
                if int(p.pid) == self.pid and used is not None:
                    total += int(used)
        return total if found else None

    def close(self) -> None:
        if self._nvml is not None:
            _try(self._nvml.nvmlShutdown)
            self._nvml = None


def _memory_info(nvml: Any, handle: Any) -> Any:
    """Used and total memory as ``nvidia-smi`` shows them.

    NVML's first memory call counts the driver's reserved memory as used (about 600 MiB on
    an idle H200); the ``_v2`` call reports it apart, so it is asked first where the
    installed pynvml and the driver have it.
    """
    v2 = getattr(nvml, "nvmlMemory_v2", None)
    if v2 is not None:
        mem = _try(lambda: nvml.nvmlDeviceGetMemoryInfo(handle, version=v2))
        if mem is not None:
            return mem
    return _try(lambda: nvml.nvmlDeviceGetMemoryInfo(handle))


def _name(nvml: Any, handle: Any) -> str:
    name = _try(lambda: nvml.nvmlDeviceGetName(handle))
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace")
    return str(name) if name is not None else ""


def _fraction(value: float | None) -> float | None:
    if value is None:
        return None
    return min(max(float(value), 0.0), 1.0)


def _try(fn: Any) -> Any:
    try:
        return fn()
    except Exception:
        return None
