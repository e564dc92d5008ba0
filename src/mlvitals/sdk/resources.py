"""Process, host and GPU resources, sampled by the collector thread (never per call).

Two kinds of reading:

- a cheap *tick* (every second by default): RSS and GPU readings, from which each window
  gets its peak RSS, GPU busy seconds and peak GPU memory;
- a full *instance sample* once per window: process CPU %, RSS, host memory, open file
  descriptors, process start time, the CPU cores and memory the instance is allowed (its
  cgroup limits, or the host's) and per-GPU readings.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import psutil

from mlvitals.sdk.allocation import Allocation
from mlvitals.sdk.gpu import GpuReading, GpuSampler

log = logging.getLogger("mlvitals.sdk")


@dataclass(frozen=True, slots=True)
class Tick:
    """One cheap reading: RSS, and GPU busy fraction (summed over devices) and memory."""

    rss_bytes: int | None
    gpus: tuple[GpuReading, ...]

    @property
    def gpu_busy(self) -> float | None:
        """GPUs busy at once, for this process where NVML tells (e.g. 1.5 = one and a half)."""
        fractions = [g.busy_fraction for g in self.gpus if g.busy_fraction is not None]
        return sum(fractions) if fractions else None

    @property
    def gpu_memory_bytes(self) -> int | None:
        used = [g.memory_bytes for g in self.gpus if g.memory_bytes is not None]
        return sum(used) if used else None


class ResourceSampler:
    """Reads this process's resources with psutil, and GPUs with a :class:`GpuSampler`."""

    def __init__(
        self,
        gpu: GpuSampler | None = None,
        pid: int | None = None,
        allocation: Allocation | None = None,
    ) -> None:
        self._process = psutil.Process(pid)
        self._gpu = gpu if gpu is not None else GpuSampler(nvml=False)
        self._allocation = allocation if allocation is not None else Allocation()
        self._last_gpus: tuple[GpuReading, ...] = ()
        self._start: float | None = _try(self._process.create_time)
        # The first cpu_percent() call only sets the baseline for the next one.
        _try(lambda: self._process.cpu_percent(None))

    @property
    def gpu(self) -> GpuSampler:
        return self._gpu

    def tick(self) -> Tick:
        rss = _try(lambda: int(self._process.memory_info().rss))
        self._last_gpus = tuple(self._gpu.read())
        return Tick(rss_bytes=rss, gpus=self._last_gpus)

    @property
    def last_gpus(self) -> tuple[GpuReading, ...]:
        return self._last_gpus

    def instance_sample(
        self, *, service: str, version: str, instance: str, time: float
    ) -> dict[str, Any]:
        """An ``instance_sample`` record, as ``POST /api/v1/ingest`` takes it."""
        p = self._process
        record: dict[str, Any] = {
            "kind": "instance_sample",
            "service": service,
            "version": version,
            "instance": instance,
            "time": time,
        }
        mem = _try(psutil.virtual_memory)
        cores, allocated_memory = self._allocation.read()
        values = {
            "process_start": self._start,
            "cpu_percent": _try(lambda: float(p.cpu_percent(None))),
            "rss_bytes": _try(lambda: int(p.memory_info().rss)),
            # "used" as total minus available: the memory other programs cannot have.
            "host_memory_used_bytes": int(mem.total - mem.available) if mem else None,
            "host_memory_total_bytes": int(mem.total) if mem else None,
            "open_fds": _try(_open_fds(p)),
            "cpu_cores_allocated": cores,
            "memory_allocated_bytes": allocated_memory,
        }
        record.update({k: v for k, v in values.items() if v is not None})
        record["gpus"] = [g.to_wire() for g in self._last_gpus]
        return record

    def close(self) -> None:
        self._gpu.close()


def _open_fds(p: psutil.Process) -> Any:
    if os.name == "nt":
        return lambda: int(p.num_handles())  # type: ignore[attr-defined,unused-ignore]
    return lambda: int(p.num_fds())


def _try(fn: Any) -> Any:
    try:
        return fn()
    except (psutil.Error, OSError, ValueError) as exc:
        log.debug("resource reading failed: %s", exc)
        return None
