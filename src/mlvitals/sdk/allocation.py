"""What this instance is allowed to use: CPU cores and memory, for hosting cost.

On Linux the limits come from the process's cgroup (v2 ``cpu.max`` and ``memory.max``, or
v1 ``cpu.cfs_quota_us``/``cpu.cfs_period_us`` and ``memory.limit_in_bytes``), taking the
tightest limit along the cgroup's ancestors, as the kernel does. Without a limit, the CPUs
the process may run on (its affinity) and the host's memory. The cgroup root is a parameter
so the parsing is tested on real files laid out as the kernel does.

>>> cores, memory = Allocation().read()
>>> cores > 0 and memory > 0
True
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

_V1_UNLIMITED = 1 << 60  # v1 writes a page-rounded 2**63-1 for "no limit"


class Allocation:
    def __init__(
        self,
        cgroup_root: str | Path = "/sys/fs/cgroup",
        proc_cgroup: str | Path = "/proc/self/cgroup",
    ) -> None:
        self.root = Path(cgroup_root)
        self.proc_cgroup = Path(proc_cgroup)

    def read(self) -> tuple[float | None, int | None]:
        """``(cpu_cores_allocated, memory_allocated_bytes)``; None where nothing is known."""
        try:
            cores = self._cgroup_cores()
        except ValueError:  # a file the kernel would not write: ignore the cgroup
            cores = None
        host_cores = _affinity_cores()
        if cores is None or (host_cores is not None and host_cores < cores):
            cores = host_cores
        try:
            memory = self._cgroup_memory()
        except ValueError:
            memory = None
        host_memory = _host_memory()
        if memory is None or (host_memory is not None and host_memory < memory):
            memory = host_memory
        return cores, memory

    # -- cgroup v2 and v1 ------------------------------------------------------------------

    def _v2_dirs(self) -> list[Path]:
        """The process's cgroup directory and its ancestors, innermost first."""
        try:
            lines = self.proc_cgroup.read_text().splitlines()
        except OSError:
            return []
        for line in lines:
            if line.startswith("0::"):
                here = self.root / line[3:].strip().lstrip("/")
                dirs = [here, *here.parents]
                return [d for d in dirs if d == self.root or self.root in d.parents]
        return []

    def _cgroup_cores(self) -> float | None:
        limits: list[float] = []
        for d in self._v2_dirs():
            text = _read(d / "cpu.max")
            if text:
                quota, _, period = text.partition(" ")
                if quota != "max" and period:
                    limits.append(int(quota) / int(period))
        if not limits:
            for v1 in (self.root / "cpu,cpuacct", self.root / "cpu"):
                quota_text = _read(v1 / "cpu.cfs_quota_us")
                period_text = _read(v1 / "cpu.cfs_period_us")
                if quota_text and period_text and int(quota_text) > 0:
                    limits.append(int(quota_text) / int(period_text))
                    break
        positive = [x for x in limits if x > 0]
        return min(positive) if positive else None

    def _cgroup_memory(self) -> int | None:
        limits: list[int] = []
        for d in self._v2_dirs():
            text = _read(d / "memory.max")
            if text and text != "max":
                limits.append(int(text))
        if not limits:
            text = _read(self.root / "memory" / "memory.limit_in_bytes")
            if text and int(text) < _V1_UNLIMITED:
                limits.append(int(text))
        positive = [x for x in limits if x > 0]
        return min(positive) if positive else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, ValueError):
        return None


def _affinity_cores() -> float | None:
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        try:
            return float(len(getaffinity(0)))
        except OSError:
            pass
    count = os.cpu_count()
    return float(count) if count else None


def _host_memory() -> int | None:
    try:
        return int(psutil.virtual_memory().total)
    except (psutil.Error, OSError):
        return None
