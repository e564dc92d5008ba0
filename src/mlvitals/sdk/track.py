"""``monitor.track``: time calls as a decorator or a context manager, sync or async.

Per call it records latency (``timer``, ``time.perf_counter`` by default), CPU time, and the
outcome: ok, or failed with the exception's type name. Exceptions are re-raised unchanged.

What the CPU number means:

- sync functions and ``with`` blocks: CPU time of the calling thread from entry to exit
  (``time.thread_time``). Work the call hands to other threads (a thread pool, BLAS or
  PyTorch intra-op threads) is not in it; the process CPU in instance samples is.
- ``async def`` functions: CPU time of the event-loop thread spent running *this call's*
  coroutine, summed over each step from a resumption to the next suspension, including the
  coroutines it awaits directly. Other tasks that run while it is suspended are not counted,
  nor are tasks it spawns or work sent to executors.
- a ``with`` block inside async code that awaits counts the loop thread's CPU across the
  whole block, other tasks included; decorate an ``async def`` to get the exact number.

CPU is measured on a time-based sample, as in the ASGI middleware: reading a thread's CPU
clock is a system call, slower than everything else a tracked call does. A call has its CPU
read only if the last measured call of its operation started ``cpu_sample_interval``
seconds or more before (default 5 ms): every call of an operation called less than 200
times a second, about 200 a second above that. The others record ``NaN``, and a window's
CPU seconds scale its measured calls up to all of its calls. Latency, outcome and count
cover every call. ``cpu_sample_interval=0`` measures every call.
"""

from __future__ import annotations

import functools
import inspect
import math
import threading
import types
from collections.abc import Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, TypeVar, cast

from mlvitals.sdk.recorder import MAX_NAME, Recorder

F = TypeVar("F", bound=Callable[..., Any])

_ERROR_NAMES: dict[type[BaseException], str] = {}
NAN = math.nan
_MAX_SPAN_OPERATIONS = 4096


def error_type(exc: BaseException) -> str:
    """``"ValueError"`` for builtins, ``"module.Class"`` otherwise (at most 200 characters).

    >>> error_type(KeyError("x")), error_type(TimeoutError())
    ('KeyError', 'TimeoutError')
    """
    cls = type(exc)
    name = _ERROR_NAMES.get(cls)
    if name is None:
        module = getattr(cls, "__module__", "") or ""
        qualname = getattr(cls, "__qualname__", cls.__name__)
        name = (qualname if module == "builtins" else f"{module}.{qualname}")[:MAX_NAME]
        if len(_ERROR_NAMES) < 1024:  # classes made at run time must not grow it forever
            _ERROR_NAMES[cls] = name
    return name


class Probe:
    """The recorder and clocks that every wrapper and span of one monitor shares.

    ``cpu_sample_interval``: seconds from the start of a call whose CPU was measured until
    the next call of the same operation is measured (0: every call).
    """

    __slots__ = ("_next_cpu", "cpu_sample_interval", "cpu_timer", "recorder", "timer")

    def __init__(
        self,
        recorder: Recorder,
        timer: Callable[[], float],
        cpu_timer: Callable[[], float],
        cpu_sample_interval: float = 0.0,
    ) -> None:
        if not cpu_sample_interval >= 0:
            raise ValueError(
                f"cpu_sample_interval must be zero or more seconds, got {cpu_sample_interval}"
            )
        self.recorder = recorder
        self.timer = timer
        self.cpu_timer = cpu_timer
        self.cpu_sample_interval = cpu_sample_interval
        # Spans are made anew for each block: their sampling state lives here, by operation.
        self._next_cpu: dict[str, float] = {}

    def measure_cpu(self, operation: str, start: float) -> bool:
        """Whether a span of ``operation`` starting at ``start`` has its CPU measured."""
        interval = self.cpu_sample_interval
        if not interval:
            return True
        next_cpu = self._next_cpu
        if start < next_cpu.get(operation, -math.inf):
            return False
        if len(next_cpu) >= _MAX_SPAN_OPERATIONS:
            next_cpu.clear()  # names made at run time must not grow it forever
        # Threads may race here and both measure: harmless, each measured call is real.
        next_cpu[operation] = start + interval
        return True

    def wrap(self, fn: F, operation: str) -> F:
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(
                f"track() cannot time the generator function {fn.__qualname__}: it returns "
                "at once; use `with monitor.track(...)` around the work that consumes it"
            )
        if inspect.iscoroutinefunction(fn):
            return cast(F, self._wrap_async(fn, operation))
        return cast(F, self._wrap_sync(fn, operation))

    def _wrap_sync(self, fn: Callable[..., Any], op: str) -> Callable[..., Any]:
        # Everything the call needs is bound to a local: each global or attribute lookup
        # saved is ~20 ns on a path that costs well under 1 us in total.
        timer, cpu_timer = self.timer, self.cpu_timer
        ok, fail = self.recorder.ok, self.recorder.fail
        interval = self.cpu_sample_interval
        next_cpu = -math.inf  # threads may race on it and both measure: harmless
        nan = NAN

        @functools.wraps(fn)
        def sampled(*args: Any, **kwargs: Any) -> Any:
            nonlocal next_cpu
            t0 = timer()
            if t0 < next_cpu:
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    t1 = timer()
                    fail(op, t1, t1 - t0, nan, error_type(exc))
                    raise
                t1 = timer()
                ok(op, t1, t1 - t0, nan)
                return result
            next_cpu = t0 + interval
            c0 = cpu_timer()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                c1 = cpu_timer()
                t1 = timer()
                fail(op, t1, t1 - t0, c1 - c0, error_type(exc))
                raise
            c1 = cpu_timer()
            t1 = timer()
            ok(op, t1, t1 - t0, c1 - c0)
            return result

        if interval:
            return sampled

        @functools.wraps(fn)
        def tracked(*args: Any, **kwargs: Any) -> Any:
            t0 = timer()
            c0 = cpu_timer()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                c1 = cpu_timer()
                t1 = timer()
                fail(op, t1, t1 - t0, c1 - c0, error_type(exc))
                raise
            c1 = cpu_timer()
            t1 = timer()
            ok(op, t1, t1 - t0, c1 - c0)
            return result

        return tracked

    def _wrap_async(self, fn: Callable[..., Any], op: str) -> Callable[..., Any]:
        timer, cpu_timer = self.timer, self.cpu_timer
        ok, fail = self.recorder.ok, self.recorder.fail
        interval = self.cpu_sample_interval
        next_cpu = -math.inf
        nan = NAN

        @functools.wraps(fn)
        async def tracked(*args: Any, **kwargs: Any) -> Any:
            nonlocal next_cpu
            t0 = timer()
            if interval and t0 < next_cpu:
                # Not measured: awaited directly, without following its steps.
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    t1 = timer()
                    fail(op, t1, t1 - t0, nan, error_type(exc))
                    raise
                t1 = timer()
                ok(op, t1, t1 - t0, nan)
                return result
            next_cpu = t0 + interval
            steps = Steps(cpu_timer)
            try:
                result = await steps.drive(fn(*args, **kwargs))
            except BaseException as exc:
                t1 = timer()
                fail(op, t1, t1 - t0, steps.cpu, error_type(exc))
                raise
            t1 = timer()
            ok(op, t1, t1 - t0, steps.cpu)
            return result

        return tracked


class Steps:
    """Runs a coroutine step by step and sums the CPU time of its steps into ``cpu``.

    ``await Steps(time.thread_time).drive(coro)`` behaves as ``await coro``: values,
    exceptions and cancellation pass through unchanged. The driver is a generator-based
    coroutine, so awaiting it costs one generator resumption per step and two CPU-clock
    readings, with no Python-level ``send`` method in between.

    >>> import asyncio, time
    >>> async def work():
    ...     await asyncio.sleep(0)
    ...     return sum(range(1000))
    >>> steps = Steps(time.thread_time)
    >>> asyncio.run(steps.drive(work())), steps.cpu >= 0.0
    (499500, True)
    """

    __slots__ = ("_cpu_timer", "_final", "_step_start", "cpu")

    def __init__(self, cpu_timer: Callable[[], float]) -> None:
        self._cpu_timer = cpu_timer
        self._step_start: float | None = None
        self._final: float | None = None
        self.cpu = 0.0

    def freeze(self) -> float:
        """From inside the coroutine: the CPU so far, which becomes the final ``cpu``.

        Work after this point (Starlette's background tasks after the last byte, say) is not
        counted.
        """
        if self._final is None:
            cpu = self.cpu
            if self._step_start is not None:
                cpu += self._cpu_timer() - self._step_start
            self._final = cpu
        return self._final

    @types.coroutine
    def drive(self, coro: Coroutine[Any, Any, Any]) -> Generator[Any, Any, Any]:
        clock = self._cpu_timer
        value: Any = None
        error: BaseException | None = None
        while True:
            self._step_start = start = clock()
            try:
                yielded = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                self._account(start)
                return stop.value
            except BaseException:
                self._account(start)
                raise
            self._account(start)
            try:
                value, error = (yield yielded), None
            except BaseException as exc:  # cancellation or close(): passed on to the coroutine
                value, error = None, exc

    def _account(self, start: float) -> None:
        self._step_start = None
        if self._final is None:
            self.cpu += self._cpu_timer() - start
        else:
            self.cpu = self._final


class Span:
    """One timed block: ``with monitor.track("op"):`` or ``async with``; also a decorator.

    A span times one block at a time; write ``monitor.track(...)`` in each ``with``.
    """

    __slots__ = ("_c0", "_operation", "_probe", "_t0", "_thread")

    def __init__(self, probe: Probe, operation: str) -> None:
        if not operation:
            raise ValueError("an operation name must not be empty")
        self._probe = probe
        self._operation = operation
        self._t0: float | None = None
        self._c0 = 0.0
        self._thread = 0

    def __call__(self, fn: F) -> F:
        return self._probe.wrap(fn, self._operation)

    def __enter__(self) -> Span:
        if self._t0 is not None:
            raise RuntimeError(
                "this track() span is already timing a block; call monitor.track(...) anew "
                "for each with-statement"
            )
        self._thread = threading.get_ident()
        probe = self._probe
        self._t0 = t0 = probe.timer()
        self._c0 = probe.cpu_timer() if probe.measure_cpu(self._operation, t0) else NAN
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        probe = self._probe
        c0 = self._c0
        c1 = probe.cpu_timer() if c0 == c0 else NAN  # NaN: this block is not measured
        t1 = probe.timer()
        t0, self._t0 = self._t0, None
        if t0 is None:
            return
        # NaN where not measured; a block that resumed on another thread has no meaningful
        # thread CPU delta.
        same_thread = c0 != c0 or threading.get_ident() == self._thread
        cpu = c1 - c0 if same_thread else 0.0
        if exc is None:
            probe.recorder.ok(self._operation, t1, t1 - t0, cpu)
        else:
            probe.recorder.fail(self._operation, t1, t1 - t0, cpu, error_type(exc))

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(
        self,
        typ: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(typ, exc, tb)
