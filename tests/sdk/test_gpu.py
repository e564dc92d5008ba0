"""The NVML path, against a fake NVML module (no GPU on the test machines)."""

# ruff: noqa: N802  (the fake keeps NVML's camelCase function names)

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mlvitals import Monitor
from mlvitals.sdk import GpuSampler
from tests.sdk.conftest import FakeClock, MemoryTransport, validate_wire

GIB = 1024**3


class NVMLError(Exception):
    pass


class FakeNVML:
    """Two devices. Device 0 reports per-process utilization and memory; device 1 does not
    support per-process utilization, and this process has no memory on it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.device_util = [80, 20]  # percent, whole device
        self.process_util = 50  # percent of device 0, this process
        self.initialised = False
        self.shut_down = False
        self.nvmlMemory_v2 = 0x02000028

    def nvmlInit(self) -> None:
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, h: int) -> bytes:
        return b"NVIDIA H100 80GB HBM3"  # older pynvml versions return bytes

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return SimpleNamespace(gpu=self.device_util[h], memory=10)

    def nvmlDeviceGetMemoryInfo(self, h: int, version: int | None = None) -> Any:
        if version is None:  # the first call counts the driver's reserved memory as used
            return SimpleNamespace(used=(4 + h) * GIB, total=80 * GIB, free=(76 - h) * GIB)
        assert version == self.nvmlMemory_v2
        return SimpleNamespace(
            used=(3 + h) * GIB, reserved=GIB, total=80 * GIB, free=(76 - h) * GIB
        )

    def nvmlDeviceGetComputeRunningProcesses(self, h: int) -> list[Any]:
        if h == 0:
            return [
                SimpleNamespace(pid=self.pid, usedGpuMemory=GIB),
                SimpleNamespace(pid=self.pid + 1, usedGpuMemory=2 * GIB),
            ]
        return [SimpleNamespace(pid=self.pid + 1, usedGpuMemory=4 * GIB)]

    def nvmlDeviceGetGraphicsRunningProcesses(self, h: int) -> list[Any]:
        raise NVMLError("Not Supported")

    def nvmlDeviceGetProcessUtilization(self, h: int, last_seen: int) -> list[Any]:
        if h == 1:
            raise NVMLError("Not Supported")
        return [
            SimpleNamespace(pid=self.pid, smUtil=self.process_util, memUtil=5, timeStamp=10),
            SimpleNamespace(pid=self.pid + 1, smUtil=30, memUtil=5, timeStamp=10),
        ]


def test_readings_per_device_with_process_share_where_available() -> None:
    nvml = FakeNVML(os.getpid())
    readings = GpuSampler(nvml=nvml).read()
    assert [r.to_wire() for r in readings] == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "utilization": 0.8,
            "memory_used_bytes": 3 * GIB,
            "memory_total_bytes": 80 * GIB,
            "process_utilization": 0.5,
            "process_memory_bytes": GIB,
        },
        {
            "index": 1,
            "name": "NVIDIA H100 80GB HBM3",
            "utilization": 0.2,
            "memory_used_bytes": 4 * GIB,
            "memory_total_bytes": 80 * GIB,
            "process_memory_bytes": 0,
        },
    ]
    # This process's share where known, the device's otherwise.
    assert [r.busy_fraction for r in readings] == [0.5, 0.2]


def test_memory_used_leaves_out_the_drivers_reserved_memory_where_nvml_can() -> None:
    nvml = FakeNVML(os.getpid())
    assert GpuSampler(nvml=nvml).read()[0].memory_used_bytes == 3 * GIB
    del nvml.nvmlMemory_v2  # an older pynvml: the first call is all there is
    assert GpuSampler(nvml=nvml).read()[0].memory_used_bytes == 4 * GIB


def test_windows_get_gpu_seconds_by_call_time_and_peak_memory(memory: MemoryTransport) -> None:
    clock = FakeClock(1_000.0)
    nvml = FakeNVML(os.getpid())
    m = Monitor(
        "svc",
        transport=memory,
        background=False,
        nvml=nvml,
        clock=clock,
        timer=clock,
        cpu_timer=lambda: 0.0,
    )
    for op, seconds in [("a", 1.0), ("a", 1.0), ("a", 1.0), ("b", 1.0)]:
        with m.track(op):
            clock.advance(seconds)
    clock.now = 1_005.0
    m.collect()  # busy 0.5 + 0.2 GPUs over 1000..1005
    nvml.process_util = 10
    clock.now = 1_010.0
    m.collect()  # busy 0.1 + 0.2 GPUs over 1005..1010: the window closes
    validate_wire(memory.records)

    busy = 0.7 * 5 + 0.3 * 5  # GPU-seconds this process used in the window
    by_op = {w["operation"]: w for w in memory.windows()}
    # a had three of the four seconds of call time in the window, b one.
    assert by_op["a"]["gpu_busy_seconds"] == pytest.approx(busy * 3 / 4)
    assert by_op["b"]["gpu_busy_seconds"] == pytest.approx(busy / 4)
    assert by_op["a"]["gpu_peak_memory_bytes"] == GIB  # 1 GiB on device 0, none on 1

    (sample,) = memory.samples()
    assert [g["process_utilization"] for g in sample["gpus"] if "process_utilization" in g] == [0.1]
    assert [g["utilization"] for g in sample["gpus"]] == [0.8, 0.2]

    text = generate_latest(m.prometheus_registry).decode()
    gauges = {
        (s.name, s.labels["gpu"]): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name.startswith("mlvitals_gpu")
    }
    assert gauges == {
        ("mlvitals_gpu_utilization_ratio", "0"): 0.1,
        ("mlvitals_gpu_utilization_ratio", "1"): 0.2,
        ("mlvitals_gpu_memory_used_bytes", "0"): GIB,
        ("mlvitals_gpu_memory_used_bytes", "1"): 0,
    }
    m.close()
    assert nvml.shut_down


def test_no_nvml_means_no_gpu_fields(memory: MemoryTransport) -> None:
    class Broken:
        def nvmlInit(self) -> None:
            raise NVMLError("Driver Not Loaded")

    m = Monitor("svc", transport=memory, background=False, nvml=Broken())
    m.track("f")(lambda: None)()
    m.flush()
    (w,) = memory.windows("f")
    assert not {"gpu_busy_seconds", "gpu_peak_memory_bytes"} & set(w)
    assert memory.samples()[0]["gpus"] == []
    validate_wire(memory.records)
    m.close()


def test_a_device_that_fails_mid_way_leaves_fields_unknown() -> None:
    nvml = FakeNVML(os.getpid())
    sampler = GpuSampler(nvml=nvml)

    def gone(h: int, version: int | None = None) -> Any:
        raise NVMLError("GPU is lost")

    nvml.nvmlDeviceGetMemoryInfo = gone  # type: ignore[method-assign]
    first = sampler.read()[0]
    assert first.memory_used_bytes is None and first.memory_total_bytes is None
    assert first.utilization == 0.8
