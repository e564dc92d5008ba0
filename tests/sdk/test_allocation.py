"""Allocated CPU cores and memory, parsed from cgroup files laid out as the kernel does."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from mlvitals.sdk.allocation import Allocation

HOST_MEMORY = psutil.virtual_memory().total
HOST_CORES = float(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else None


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def v2(tmp_path: Path, files: dict[str, str], cgroup: str = "/kubepods/pod1/app") -> Allocation:
    root = tmp_path / "cgroup"
    root.mkdir()
    for rel, text in files.items():
        write(root / rel, text)
    write(tmp_path / "self-cgroup", f"0::{cgroup}")
    return Allocation(root, tmp_path / "self-cgroup")


def test_cgroup_v2_limits_take_the_tightest_ancestor(tmp_path: Path) -> None:
    a = v2(
        tmp_path,
        {
            "kubepods/pod1/app/cpu.max": "max 100000",
            "kubepods/pod1/cpu.max": "50000 100000",  # half a core for the whole pod
            "kubepods/cpu.max": "400000 100000",
            "kubepods/pod1/app/memory.max": str(256 * 2**20),
            "kubepods/pod1/memory.max": str(512 * 2**20),
        },
    )
    assert a.read() == (0.5, 256 * 2**20)


def test_cgroup_v2_without_limits_falls_back_to_the_host(tmp_path: Path) -> None:
    a = v2(tmp_path, {"cpu.max": "max 100000", "memory.max": "max"}, cgroup="/")
    assert a.read() == (HOST_CORES, HOST_MEMORY)


def test_a_limit_above_the_host_is_the_host(tmp_path: Path) -> None:
    a = v2(tmp_path, {"app/cpu.max": "100000000 100000", "app/memory.max": str(1 << 55)}, "/app")
    assert a.read() == (HOST_CORES, HOST_MEMORY)


def test_cgroup_v1_quota_and_memory_limit(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "150000")
    write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000")
    write(root / "memory" / "memory.limit_in_bytes", str(2**30))
    a = Allocation(root, tmp_path / "no-such-file")
    expected_cores = 1.5 if HOST_CORES is None or HOST_CORES >= 1.5 else HOST_CORES
    assert a.read() == (expected_cores, min(2**30, HOST_MEMORY))


def test_cgroup_v1_unlimited_and_garbage_are_ignored(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    write(root / "cpu" / "cpu.cfs_quota_us", "-1")
    write(root / "cpu" / "cpu.cfs_period_us", "100000")
    write(root / "memory" / "memory.limit_in_bytes", "9223372036854771712")
    assert Allocation(root, tmp_path / "none").read() == (HOST_CORES, HOST_MEMORY)
    write(root / "memory" / "memory.limit_in_bytes", "lots")
    assert Allocation(root, tmp_path / "none").read() == (HOST_CORES, HOST_MEMORY)


def test_this_machine_has_an_allocation() -> None:
    cores, memory = Allocation().read()
    assert cores is not None and cores > 0
    assert memory is not None and 0 < memory <= HOST_MEMORY
