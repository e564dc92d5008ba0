"""monitor.track: decorator and context manager, sync and async, outcomes and CPU time."""

from __future__ import annotations

import asyncio
import inspect
import math
import random
import time
from typing import Any

import pytest

from mlvitals import Monitor
from mlvitals.errors import ConfigError
from mlvitals.sdk import error_type
from tests.sdk.conftest import MemoryTransport, cpu, latency, validate_wire


class ModelError(Exception):
    pass


def burn(seconds: float) -> None:
    """Spin on the CPU of this thread for ``seconds`` of its own CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def only_window(memory: MemoryTransport, operation: str) -> dict[str, object]:
    windows = memory.windows(operation)
    assert len(windows) == 1, windows
    return windows[0]


def test_decorator_records_calls_latency_and_cpu(monitor: Monitor, memory: MemoryTransport) -> None:
    @monitor.track
    def predict(x: int) -> int:
        burn(0.01)
        return x * 2

    @monitor.track("sleepy")
    def sleepy() -> None:
        time.sleep(0.02)

    assert [predict(i) for i in range(5)] == [0, 2, 4, 6, 8]
    sleepy()
    monitor.flush()
    validate_wire(memory.records)

    w = only_window(memory, "test_decorator_records_calls_latency_and_cpu.<locals>.predict")
    assert w["calls"] == 5 and w["failures"] == {} and w["client_errors"] == 0
    c = cpu(w)
    # Each call burnt at least 10 ms of this thread's CPU, and not much more.
    assert c.min >= 0.01 and c.max < 0.05
    assert w["cpu_seconds"] == pytest.approx(c.sum)
    assert latency(w).min >= 0.01

    s = only_window(memory, "sleepy")
    assert latency(s).min >= 0.02  # asleep: wall time passes...
    assert cpu(s).max < 0.005  # ...but the thread uses almost no CPU


def test_exception_is_reraised_unchanged_and_counted_by_type(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    raised = ModelError("bad input")

    @monitor.track("predict")
    def predict(kind: str) -> None:
        if kind == "model":
            raise raised
        if kind == "value":
            raise ValueError("no")

    with pytest.raises(ModelError) as info:
        predict("model")
    assert info.value is raised
    # The traceback still reaches the line that raised.
    assert info.traceback[-1].name == "predict"
    for _ in range(2):
        with pytest.raises(ValueError):
            predict("value")
    predict("fine")
    monitor.flush()
    w = only_window(memory, "predict")
    assert w["calls"] == 4
    assert w["failures"] == {"tests.sdk.test_track.ModelError": 1, "ValueError": 2}


def test_wrapper_keeps_name_doc_signature_and_wrapped(monitor: Monitor) -> None:
    def predict(features: list[float], *, threshold: float = 0.5) -> bool:
        """Score one row."""
        return sum(features) > threshold

    tracked = monitor.track(predict)
    assert tracked.__name__ == "predict"
    assert tracked.__doc__ == "Score one row."
    assert tracked.__wrapped__ is predict  # type: ignore[attr-defined]
    assert inspect.signature(tracked) == inspect.signature(predict)
    assert tracked([0.2, 0.4]) is True

    async def apredict(x: int) -> int:
        return x

    atracked = monitor.track("a")(apredict)
    assert inspect.iscoroutinefunction(atracked)
    assert inspect.signature(atracked) == inspect.signature(apredict)

    class Model:
        @monitor.track
        def predict(self, x: int) -> int:
            return x + 1

    assert Model().predict(1) == 2


def test_track_with_no_name_uses_the_function_name(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    @monitor.track()
    def score() -> int:
        return 1

    score()
    monitor.flush()
    assert [w["operation"] for w in memory.windows()] == [score.__qualname__]


def test_context_manager_sync_and_async(monitor: Monitor, memory: MemoryTransport) -> None:
    with monitor.track("load"):
        time.sleep(0.01)
    with pytest.raises(KeyError), monitor.track("load"):
        raise KeyError("feature")

    async def main() -> None:
        async with monitor.track("fetch"):
            await asyncio.sleep(0.01)

    asyncio.run(main())
    monitor.flush()
    load = only_window(memory, "load")
    assert load["calls"] == 2 and load["failures"] == {"KeyError": 1}
    assert latency(load).max >= 0.01
    fetch = only_window(memory, "fetch")
    assert fetch["calls"] == 1 and latency(fetch).min >= 0.01


def test_a_span_times_one_block_at_a_time(monitor: Monitor) -> None:
    span = monitor.track("op")
    with span, pytest.raises(RuntimeError, match="already timing"), span:
        pass


def test_async_function_cpu_counts_only_its_own_steps(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    """While one task waits, another burns the loop thread's CPU; only the burner pays."""

    @monitor.track("waiter")
    async def waiter() -> str:
        await asyncio.sleep(0.15)
        burn(0.005)
        return "done"

    @monitor.track("burner")
    async def burner() -> None:
        for _ in range(5):
            burn(0.02)
            await asyncio.sleep(0)

    async def main() -> list[object]:
        return await asyncio.gather(waiter(), burner())

    assert asyncio.run(main()) == ["done", None]
    monitor.flush()
    w, b = only_window(memory, "waiter"), only_window(memory, "burner")
    assert latency(w).min >= 0.15
    # The waiter's 5 ms of its own; the burner's 100 ms ran while it was suspended.
    assert 0.005 <= cpu(w).sum < 0.03
    assert cpu(b).sum >= 0.1


def test_async_failures_and_cancellation_are_recorded_and_propagated(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    @monitor.track("predict")
    async def predict(fail: bool) -> int:
        await asyncio.sleep(0)
        if fail:
            raise ModelError("x")
        return 1

    @monitor.track("slow")
    async def slow() -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        assert await predict(False) == 1
        with pytest.raises(ModelError):
            await predict(True)
        task = asyncio.create_task(slow())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    monitor.flush()
    assert only_window(memory, "predict")["failures"] == {"tests.sdk.test_track.ModelError": 1}
    assert only_window(memory, "slow")["failures"] == {"asyncio.exceptions.CancelledError": 1}


def test_async_generators_send_values_through(monitor: Monitor) -> None:
    """Values sent into and thrown into the coroutine pass through the CPU wrapper."""

    @monitor.track("echo")
    async def echo() -> int:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        loop.call_later(0.01, fut.set_result, 7)
        return await fut

    assert asyncio.run(echo()) == 7


def test_generator_functions_are_refused(monitor: Monitor) -> None:
    def rows() -> object:
        yield 1

    with pytest.raises(TypeError, match="generator function"):
        monitor.track(rows)


def test_error_type_names() -> None:
    assert error_type(ValueError()) == "ValueError"
    assert error_type(ModelError()) == "tests.sdk.test_track.ModelError"
    assert error_type(asyncio.CancelledError()) == "asyncio.exceptions.CancelledError"

    class Local(Exception):
        pass

    assert error_type(Local()) == "tests.sdk.test_track.test_error_type_names.<locals>.Local"


def test_calls_after_close_are_discarded(memory: MemoryTransport) -> None:
    m = Monitor("svc", transport=memory, background=False, nvml=False)
    f = m.track("f")(lambda: 1)
    f()
    m.close()
    assert [w["calls"] for w in memory.windows()] == [1]
    assert f() == 1  # still works, not recorded
    assert m._recorder.take().series == {}


# -- CPU measured on a time-based sample ----------------------------------------------------


class Workload:
    """Calls of known cost: each advances a fake wall timer and a fake CPU clock."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.wall = 1_000.0
        self.cpu = 50.0
        self.true_cpu = 0.0
        self.latencies: list[float] = []

    def timer(self) -> float:
        return self.wall

    def cpu_timer(self) -> float:
        return self.cpu

    def step(self) -> None:
        # Independent costs from 0.1 to 2 ms: the sample sees a fair draw of them.
        cost = self.rng.uniform(0.0001, 0.002)
        self.wall += cost
        self.cpu += cost
        self.true_cpu += cost
        self.latencies.append(cost)


def sampled_monitor(memory: MemoryTransport, work: Workload, **kwargs: Any) -> Monitor:
    return Monitor(
        "svc",
        transport=memory,
        background=False,
        nvml=False,
        timer=work.timer,
        cpu_timer=work.cpu_timer,
        **kwargs,
    )


def totals(windows: list[dict[str, Any]]) -> tuple[int, int, float, float]:
    """Calls, calls whose CPU was measured, estimated CPU seconds, summed latency."""
    return (
        sum(w["calls"] for w in windows),
        sum(cpu(w).count for w in windows),
        sum(w["cpu_seconds"] for w in windows),
        sum(latency(w).sum for w in windows),
    )


def test_sync_cpu_is_sampled_in_time_and_scaled_up_to_every_call(memory: MemoryTransport) -> None:
    work = Workload(seed=7)
    m = sampled_monitor(memory, work, cpu_sample_interval=0.005)

    @m.track("predict")
    def predict() -> None:
        work.step()

    for _ in range(20_000):
        predict()
    m.flush()
    calls, measured, cpu_seconds, latency_sum = totals(memory.windows("predict"))
    # Counts and latency cover every call, exactly.
    assert calls == 20_000
    assert latency_sum == pytest.approx(math.fsum(work.latencies), rel=1e-9)
    # CPU is read for about one call per 5 ms of wall time (21 s here: ~4,000 of 20,000).
    assert 2_000 < measured < 8_000
    # Scaled up, the sample estimates the whole workload's CPU (its error is ~1 % here).
    assert cpu_seconds == pytest.approx(work.true_cpu, rel=0.1)
    m.close()


def test_async_cpu_is_sampled_in_time_and_scaled_up_to_every_call(
    memory: MemoryTransport,
) -> None:
    work = Workload(seed=11)
    m = sampled_monitor(memory, work, cpu_sample_interval=0.005)

    @m.track("apredict")
    async def apredict() -> None:
        await asyncio.sleep(0)
        work.step()

    async def run() -> None:
        for _ in range(5_000):
            await apredict()

    asyncio.run(run())
    m.flush()
    calls, measured, cpu_seconds, latency_sum = totals(memory.windows("apredict"))
    assert calls == 5_000
    assert latency_sum == pytest.approx(math.fsum(work.latencies), rel=1e-9)
    assert 500 < measured < 2_500
    assert cpu_seconds == pytest.approx(work.true_cpu, rel=0.15)
    m.close()


def test_spans_are_sampled_per_operation(memory: MemoryTransport) -> None:
    work = Workload(seed=3)
    m = sampled_monitor(memory, work, cpu_sample_interval=0.005)
    for _ in range(5_000):
        with m.track("block"):
            work.step()
    m.flush()
    calls, measured, cpu_seconds, _ = totals(memory.windows("block"))
    assert calls == 5_000 and 500 < measured < 2_500
    assert cpu_seconds == pytest.approx(work.true_cpu, rel=0.15)
    m.close()


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_a_zero_interval_measures_every_call(
    memory: MemoryTransport, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    work = Workload(seed=5)
    if how == "environment":
        monkeypatch.setenv("MLVITALS_CPU_SAMPLE_INTERVAL", "0")
        m = sampled_monitor(memory, work)
    else:
        m = sampled_monitor(memory, work, cpu_sample_interval=0)

    @m.track("predict")
    def predict() -> None:
        work.step()

    for _ in range(2_000):
        predict()
    m.flush()
    calls, measured, cpu_seconds, _ = totals(memory.windows("predict"))
    assert calls == measured == 2_000
    assert cpu_seconds == pytest.approx(work.true_cpu, rel=0.02)  # the sketch's sum is exact
    m.close()


def test_a_bad_interval_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="cpu_sample_interval"):
        Monitor("svc", background=False, nvml=False, cpu_sample_interval=-1)
    monkeypatch.setenv("MLVITALS_CPU_SAMPLE_INTERVAL", "often")
    with pytest.raises(ConfigError, match="MLVITALS_CPU_SAMPLE_INTERVAL"):
        Monitor("svc", background=False, nvml=False)


def test_sampled_cpu_of_a_real_cpu_burning_workload() -> None:
    """Real clocks: calls burn 0.2 to 1 ms of this thread's CPU, in random order."""
    memory = MemoryTransport()
    m = Monitor("svc", transport=memory, background=False, nvml=False)
    rng = random.Random(1)
    burnt: list[float] = []

    @m.track("burner")
    def burner(seconds: float) -> None:
        c0 = time.thread_time()
        burn(seconds)
        burnt.append(time.thread_time() - c0)

    for _ in range(1_000):
        burner(rng.uniform(0.0002, 0.001))
    m.flush()
    calls, measured, cpu_seconds, _ = totals(memory.windows("burner"))
    assert calls == 1_000
    assert measured < calls  # sampled: at most one call per 5 ms is measured
    # Even a busy machine keeps ~100 measured calls of independent cost: an error far
    # inside a third.
    assert measured >= 20
    assert cpu_seconds == pytest.approx(math.fsum(burnt), rel=0.33)
    m.close()


def test_an_operation_called_rarely_beside_a_busy_one_is_measured_every_time(
    memory: MemoryTransport,
) -> None:
    work = Workload(seed=9)
    m = sampled_monitor(memory, work, cpu_sample_interval=0.005)

    @m.track("busy")
    def busy() -> None:
        work.step()

    @m.track("rare")
    def rare() -> None:
        work.step()

    for k in range(5_000):
        busy()
        if k % 50 == 0:
            with m.track("rare block"):
                work.step()
            rare()
    m.flush()
    # Each rare call starts ~50 ms after the last: its operation's own sample takes it.
    for operation in ("rare", "rare block"):
        calls, measured, _, _ = totals(memory.windows(operation))
        assert calls == measured == 100, operation
    m.close()
