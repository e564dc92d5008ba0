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
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, TypeVar, cast

from mlvitals.sdk.recorder import MAX_NAME, Recorder

F = TypeVar("F", bound=Callable[..., Any])

_ERROR_NAMES: dict[type[BaseException], str] = {}


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
    """The recorder and clocks that every wrapper and span of one monitor shares."""

    __slots__ = ("cpu_timer", "recorder", "timer")

    def __init__(
        self, recorder: Recorder, timer: Callable[[], float], cpu_timer: Callable[[], float]
    ) -> None:
        self.recorder = recorder
        self.timer = timer
        self.cpu_timer = cpu_timer

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
        # saved is ~20 ns on a path that costs ~1 us in total.
        timer, cpu_timer = self.timer, self.cpu_timer
        ok, fail = self.recorder.ok, self.recorder.fail

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

        @functools.wraps(fn)
        async def tracked(*args: Any, **kwargs: Any) -> Any:
            t0 = timer()
            steps = None
            try:
                steps = CpuMeasured(fn(*args, **kwargs), cpu_timer)
                result = await steps
            except BaseException as exc:
                t1 = timer()
                fail(op, t1, t1 - t0, steps.cpu if steps else 0.0, error_type(exc))
                raise
            t1 = timer()
            ok(op, t1, t1 - t0, steps.cpu)
            return result

        return tracked


class CpuMeasured:
    """Awaits a coroutine and sums the CPU time of each of its steps into ``cpu``.

    ``await CpuMeasured(coro, time.thread_time)`` behaves as ``await coro``: values, exceptions
    and cancellation pass through unchanged.
    """

    __slots__ = ("_coro", "_cpu_timer", "_step_start", "cpu")

    def __init__(self, coro: Coroutine[Any, Any, Any], cpu_timer: Callable[[], float]) -> None:
        self._coro = coro
        self._cpu_timer = cpu_timer
        self._step_start: float | None = None
        self.cpu = 0.0

    def cpu_so_far(self) -> float:
        """``cpu`` plus the step running now, when called from inside the coroutine."""
        if self._step_start is None:
            return self.cpu
        return self.cpu + (self._cpu_timer() - self._step_start)

    def __await__(self) -> Generator[Any, Any, Any]:
        return self

    def __iter__(self) -> CpuMeasured:
        return self

    def __next__(self) -> Any:
        return self.send(None)

    def send(self, value: Any) -> Any:
        self._step_start = start = self._cpu_timer()
        try:
            return self._coro.send(value)
        finally:
            self._step_start = None
            self.cpu += self._cpu_timer() - start

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._step_start = start = self._cpu_timer()
        try:
            if val is None and tb is None:
                return self._coro.throw(typ)
            return self._coro.throw(typ, val, tb)
        finally:
            self._step_start = None
            self.cpu += self._cpu_timer() - start

    def close(self) -> None:
        self._coro.close()


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
        self._t0 = self._probe.timer()
        self._c0 = self._probe.cpu_timer()
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        probe = self._probe
        c1 = probe.cpu_timer()
        t1 = probe.timer()
        t0, self._t0 = self._t0, None
        if t0 is None:
            return
        # A block that resumed on another thread has no meaningful thread CPU delta.
        cpu = c1 - self._c0 if threading.get_ident() == self._thread else 0.0
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
