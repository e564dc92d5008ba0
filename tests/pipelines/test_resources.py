"""Resource figures against workloads of known cost, measured independently."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import psutil

from mlvitals.pipelines import RunTracker
from mlvitals.pipelines.resources import ResourceMeter

MB = 1024 * 1024
# os.times() counts in clock ticks; differences of tick counts in float can be off by one.
TICK = 1.0 / os.sysconf("SC_CLK_TCK") + 1e-9


def busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_of_a_busy_loop_match_os_times() -> None:
    records: list[dict[str, Any]] = []
    tracker = RunTracker(records.append, environment=False)
    with tracker.run("cpu") as run, run.step("busy"):
        before = os.times()
        busy(0.4)
        after = os.times()
    reference = (after.user + after.system) - (before.user + before.system)
    step = [r for r in records if r["kind"] == "step"][-1]["resources"]
    assert reference - TICK <= step["cpu_seconds"] <= reference + 0.05
    assert step["cpu_seconds"] <= step["wall_seconds"] + 0.05  # one busy thread
    total = [r for r in records if r["kind"] == "run"][-1]["resources"]
    assert total["cpu_seconds"] >= step["cpu_seconds"]


def test_cpu_seconds_include_waited_children() -> None:
    meter = ResourceMeter()
    window = meter.open()
    before = os.times()
    code = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", code], check=True)
    after = os.times()
    usage = window.close()
    children = (after.children_user + after.children_system) - (
        before.children_user + before.children_system
    )
    assert children >= 0.4
    assert children - TICK <= usage.cpu_seconds <= children + 0.3  # plus our own fork/wait work


def test_peak_rss_of_a_known_allocation() -> None:
    meter = ResourceMeter(interval=0.05)
    size = 200 * MB
    base = psutil.Process().memory_info().rss
    window = meter.open()
    block = bytearray(b"\x01") * size  # written, so every page is resident
    del block
    usage = window.close()
    assert usage.peak_rss_bytes is not None
    assert base + 0.95 * size <= usage.peak_rss_bytes <= base + size + 64 * MB

    # The next window does not inherit that peak: it saw far less.
    quiet = meter.open().close()
    assert quiet.peak_rss_bytes is not None and quiet.peak_rss_bytes < base + 0.5 * size

    # A smaller peak than the lifetime high-water mark is caught by the sampling thread.
    window = meter.open()
    block = bytearray(b"\x01") * (100 * MB)
    time.sleep(0.4)
    del block
    sampled = window.close()
    assert sampled.peak_rss_bytes is not None
    assert base + 0.9 * 100 * MB <= sampled.peak_rss_bytes < base + 0.95 * size


def test_no_gpu_means_no_gpu_seconds() -> None:
    usage = ResourceMeter().open().close()
    # This machine has no NVIDIA GPU; with one, NVML would have to list this process.
    assert usage.gpu_seconds is None


def test_an_idle_meter_leaves_no_thread_behind() -> None:
    import mlvitals.pipelines.resources as resources

    meter = ResourceMeter(interval=0.01)
    old, resources._IDLE_EXIT_SECONDS = resources._IDLE_EXIT_SECONDS, 0.05
    try:
        meter.open().close()
        thread = meter._thread
        assert thread is not None
        thread.join(timeout=5)
        assert not thread.is_alive() and meter._thread is None
        # ...and a new window starts sampling again.
        window = meter.open()
        assert meter._thread is not None and meter._thread.is_alive()
        window.close()
    finally:
        resources._IDLE_EXIT_SECONDS = old
