"""How tracked blocks begin and end: decorator-or-context-manager specs, end events, SIGTERM.

>>> _end_event(None), _end_event(ValueError()), _end_event(KeyboardInterrupt())
('complete', 'fail', 'abort')
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Generic, Protocol, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Terminated(SystemExit):
    """Raised in the main thread on SIGTERM during a run: the run ends ``aborted``.

    A ``SystemExit`` with code ``128 + signal``, so an uncaught one ends the process quietly
    with the conventional status.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _end_event(exc: BaseException | None) -> str:
    if exc is None:
        return "complete"
    if isinstance(exc, Terminated | KeyboardInterrupt | GeneratorExit):
        return "abort"
    if type(exc).__name__ == "CancelledError":  # asyncio's, without importing asyncio
        return "abort"
    if isinstance(exc, SystemExit):
        return "complete" if exc.code in (None, 0) else "fail"
    return "fail"


class _Enterable(Protocol[T_co]):
    def __enter__(self) -> T_co: ...

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class _Spec(Generic[T]):
    """A context manager that is also a decorator; each use makes a fresh tracked object."""

    def __init__(self, make: Callable[[], _Enterable[T]]) -> None:
        self._make = make
        self._active: list[_Enterable[T]] = []

    def __enter__(self) -> T:
        obj = self._make()
        self._active.append(obj)
        return obj.__enter__()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._active.pop().__exit__(et, e, tb)

    def __call__(self, fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._make():
                    return await fn(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._make():
                return fn(*args, **kwargs)

        return cast(F, wrapper)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)
