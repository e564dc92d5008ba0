"""Windows: boundaries under an injected clock, exact counts across rotation, series limits."""

from __future__ import annotations

import threading
import time

import numpy as np

from mlvitals import Monitor
from mlvitals.sdk import OTHER
from tests.sdk.conftest import FakeClock, MemoryTransport, latency, validate_wire


def fake_monitor(memory: MemoryTransport, clock: FakeClock, **kw: object) -> Monitor:
    return Monitor(
        "svc",
        version="1.0",
        window=10.0,
        transport=memory,
        background=False,
        nvml=False,
        clock=clock,
        timer=clock,
        cpu_timer=lambda: 0.0,
        **kw,  # type: ignore[arg-type]
    )


def call(m: Monitor, clock: FakeClock, op: str, seconds: float, fail: bool = False) -> None:
    try:
        with m.track(op):
            clock.advance(seconds)
            if fail:
                raise TimeoutError
    except TimeoutError:
        pass


def test_calls_land_in_aligned_windows(memory: MemoryTransport, clock: FakeClock) -> None:
    clock.now = 1_003.0  # the first window starts when the monitor does, ends at 1010
    m = fake_monitor(memory, clock)
    for _ in range(3):
        call(m, clock, "predict", 0.5)  # 1003.0 -> 1004.5
    call(m, clock, "predict", 0.25, fail=True)
    assert m.collect() == []  # 1004.75: the window is still open
    clock.now = 1_010.5
    first = m.collect()
    call(m, clock, "predict", 1.0)  # 1010.5 -> 1011.5
    call(m, clock, "explain", 2.0)
    clock.now = 1_020.0
    second = m.collect()
    clock.now = 1_031.0
    third = m.collect()  # nothing called: only the instance sample
    validate_wire(first + second + third)

    w1 = [r for r in first if r["kind"] == "serving_window"]
    assert [(w["operation"], w["start"], w["length"]) for w in w1] == [("predict", 1003.0, 7.0)]
    assert w1[0]["calls"] == 4 and w1[0]["failures"] == {"TimeoutError": 1}
    lat = latency(w1[0])
    assert lat.sum == 1.75 and lat.min == 0.25 and lat.max == 0.5
    assert abs(lat.quantile(0.5) - 0.5) <= 0.01 * 0.5

    w2 = sorted(
        (w["operation"], w["start"], w["length"], w["calls"])
        for w in second
        if w["kind"] == "serving_window"
    )
    assert w2 == [("explain", 1010.0, 10.0, 1), ("predict", 1010.0, 10.0, 1)]
    assert [r["kind"] for r in third] == ["instance_sample"]
    assert [r["time"] for r in memory.samples()] == [1010.5, 1020.0, 1031.0]
    m.close()


def test_flush_splits_the_window_without_reusing_its_start(
    memory: MemoryTransport, clock: FakeClock
) -> None:
    clock.now = 1_000.0
    m = fake_monitor(memory, clock)
    call(m, clock, "predict", 1.0)
    clock.now = 1_004.0
    m.flush()
    call(m, clock, "predict", 1.0)
    clock.now = 1_012.0
    m.collect()
    windows = memory.windows("predict")
    assert [(w["start"], w["length"], w["calls"]) for w in windows] == [
        (1000.0, 4.0, 1),
        (1004.0, 6.0, 1),
    ]
    m.close()


def test_peak_in_flight_is_exact_for_overlapping_calls(
    memory: MemoryTransport, clock: FakeClock
) -> None:
    m = fake_monitor(memory, clock)
    a, b, c, d = (m.track("op") for _ in range(4))
    a.__enter__()  # t=0   a: [0, 4]
    clock.advance(1)
    b.__enter__()  # t=1   b: [1, 3]
    clock.advance(1)
    c.__enter__()  # t=2   c: [2, 4]   three in flight during [2, 3]
    clock.advance(1)
    b.__exit__(None, None, None)
    clock.advance(1)
    a.__exit__(None, None, None)
    c.__exit__(None, None, None)
    d.__enter__()  # t=4   d starts as a and c end: not overlapping
    clock.advance(1)
    d.__exit__(None, None, None)
    m.flush()
    assert memory.windows("op")[0]["peak_in_flight"] == 3
    m.close()


def test_peak_in_flight_with_real_threads(monitor: Monitor, memory: MemoryTransport) -> None:
    barrier = threading.Barrier(4)

    @monitor.track("together")
    def together() -> None:
        barrier.wait(timeout=5)  # all four are inside at once
        time.sleep(0.01)

    threads = [threading.Thread(target=together) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monitor.flush()
    assert memory.windows("together")[0]["peak_in_flight"] == 4


def test_no_call_is_lost_while_windows_rotate_under_load(memory: MemoryTransport) -> None:
    """Four threads call flat out while windows close one after another under them."""
    clock = FakeClock(1_000.0)  # window boundaries only; latency and CPU use real clocks
    m = Monitor("svc", window=10.0, clock=clock, transport=memory, nvml=False, background=False)
    threads = 4
    done = [0] * threads
    cold_done = [0] * threads
    stop = threading.Event()

    @m.track("hot")
    def hot(i: int) -> int:
        return i

    def work(k: int) -> None:
        i = 0
        while not stop.is_set():
            hot(i)
            if i % 7 == 0:
                with m.track("cold"):
                    pass
                cold_done[k] += 1
            i += 1
            if i % 500 == 0:
                time.sleep(0)  # let the collecting thread in now and then
        done[k] = i

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    closed = 0
    while closed < 20:
        time.sleep(0.005)
        clock.advance(10.0)
        m.collect()
        closed += 1
    stop.set()
    for t in ts:
        t.join()
    m.close()
    hot_windows = memory.windows("hot")
    assert len(hot_windows) >= 15  # calls landed in window after window
    assert sum(w["calls"] for w in hot_windows) == sum(done)
    assert sum(w["calls"] for w in memory.windows("cold")) == sum(cold_done)
    starts = [w["start"] for w in hot_windows]
    assert len(starts) == len(set(starts))  # one record per window: none replaces another
    validate_wire(memory.records)


def test_the_background_thread_closes_windows(memory: MemoryTransport) -> None:
    m = Monitor("svc", window=0.05, tick=0.01, transport=memory, nvml=False)
    f = m.track("f")(lambda: None)
    deadline = time.monotonic() + 5
    while len(memory.samples()) < 3 and time.monotonic() < deadline:
        f()
        time.sleep(0.005)
    m.close()
    assert len(memory.samples()) >= 3
    windows = memory.windows("f")
    assert len(windows) >= 2
    # Unix times near 1.8e9 carry ~2e-7 s of float rounding.
    assert all(0 < w["length"] <= 0.05 + 1e-6 for w in windows)
    assert all(abs(w["start"] / 0.05 - round(w["start"] / 0.05)) < 1e-6 for w in windows[1:])


def test_operations_beyond_max_series_fold_into_other(
    memory: MemoryTransport, clock: FakeClock
) -> None:
    m = fake_monitor(memory, clock, max_series=2)
    for op, n in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("a", 5)]:
        for _ in range(n):
            call(m, clock, op, 0.1)
    assert m.folded_calls == 7
    m.flush()
    calls = {w["operation"]: w["calls"] for w in memory.windows()}
    assert calls == {"a": 6, "b": 2, OTHER: 7}
    m.close()


def test_window_sketches_merge_to_the_whole(memory: MemoryTransport) -> None:
    """Per-window sketches of a stream merge to one within alpha of numpy's quantiles."""
    rng = np.random.default_rng(3)
    durations = rng.lognormal(-4, 0.8, 3_000)
    clock = FakeClock(0.0)
    m = fake_monitor(memory, clock)
    for d in durations:
        call(m, clock, "op", float(d))
        if clock.now > m._collector.window_end:
            m.collect()
    m.flush()
    windows = memory.windows("op")
    assert len(windows) > 3
    merged = latency(windows[0])
    for w in windows[1:]:
        merged.merge(latency(w))
    assert merged.count == len(durations)
    for q in (0.5, 0.9, 0.99):
        true = float(np.quantile(durations, q, method="lower"))
        assert abs(merged.quantile(q) - true) <= 0.01 * true * (1 + 1e-9)
    m.close()
