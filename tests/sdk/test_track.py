"""monitor.track: decorator and context manager, sync and async, outcomes and CPU time."""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest

from mlvitals import Monitor
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
