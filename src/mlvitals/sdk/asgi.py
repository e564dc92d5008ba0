"""ASGI middleware (Starlette, FastAPI): one tracked call per HTTP request.

- operation: the method and the *route template* that the router matched
  (``"GET /items/{item_id}"``), read from ``scope["route"]`` after routing, with the paths of
  enclosing mounts in front; never the raw path, so ids in URLs cannot explode the series.
  Requests no route matched count as ``"GET (unmatched)"``.
- latency: from the request's arrival to the last byte of the response (the final
  ``http.response.body``), so streaming responses are timed in full and background tasks
  that run after the response are not.
- CPU: the event-loop thread's CPU spent in this request's task (see ``sdk/track.py``) up to
  the last byte. Sync endpoints that the framework runs in a thread pool do their work on
  another thread: decorate them with ``@monitor.track`` to measure that thread's CPU.
- outcome: an exception is a failure with its type; a 5xx status a failure ``"HTTP 503"``;
  a 4xx a client error.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mlvitals.sdk.track import CpuMeasured, Probe, error_type

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"


def http_operation(method: str, template: str | None) -> str:
    """``"POST /predict"``; unusual methods become ``OTHER`` so clients cannot add series."""
    method = method.upper() if method.upper() in METHODS else "OTHER"
    return f"{method} {template or UNMATCHED}"


def route_template(scope: Scope, entry_root_path: str) -> str | None:
    """The matched route's path template, with the paths of enclosing mounts in front."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    root = scope.get("root_path", "") or ""
    prefix = root[len(entry_root_path) :] if root.startswith(entry_root_path) else ""
    if not isinstance(path, str):
        # FastAPI records no route for a mount; the mount's path is in root_path.
        return prefix or None
    if hasattr(route, "routes"):
        if route.routes:
            return None  # a mounted router that matched nothing: its 404
        # A mount served an app of its own: root_path already ends with the mount's path.
        return prefix or path
    return prefix + path


class _Exchange:
    __slots__ = ("cpu", "end", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.end: float | None = None
        self.cpu: float | None = None


class AsgiMiddleware:
    """Tracks every HTTP request of an ASGI app.

    >>> from mlvitals import Monitor
    >>> monitor = Monitor("fraud-model", background=False)
    >>> async def app(scope, receive, send): ...
    >>> wrapped = AsgiMiddleware(app, monitor=monitor)   # or monitor.asgi(app)
    >>> monitor.close()
    True

    With FastAPI or Starlette: ``app.add_middleware(AsgiMiddleware, monitor=monitor)``.
    """

    def __init__(self, app: ASGIApp, monitor: Any) -> None:
        self.app = app
        self._probe: Probe = monitor._probe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        probe = self._probe
        t0 = probe.timer()
        entry_root = scope.get("root_path", "") or ""
        ex = _Exchange()
        steps: CpuMeasured | None = None

        async def send_last_byte(message: Message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                ex.status = message.get("status")
            await send(message)
            if ex.end is None and (
                (kind == "http.response.body" and not message.get("more_body", False))
                or kind == "http.response.pathsend"
            ):
                ex.end = probe.timer()
                ex.cpu = steps.cpu_so_far() if steps is not None else None

        try:
            handling = self.app(scope, receive, send_last_byte)
            if inspect.iscoroutine(handling):
                steps = CpuMeasured(handling, probe.cpu_timer)
                await steps
            else:  # some other awaitable: timed, but its CPU steps cannot be followed
                await handling
        except BaseException as exc:
            self._record(scope, entry_root, t0, ex, steps, error_type(exc))
            raise
        self._record(scope, entry_root, t0, ex, steps, None)

    def _record(
        self,
        scope: Scope,
        entry_root: str,
        t0: float,
        ex: _Exchange,
        steps: CpuMeasured | None,
        error: str | None,
    ) -> None:
        probe = self._probe
        end = ex.end if ex.end is not None else probe.timer()
        cpu = ex.cpu if ex.cpu is not None else (steps.cpu if steps is not None else 0.0)
        op = http_operation(str(scope.get("method", "")), route_template(scope, entry_root))
        status = ex.status
        if error is None and (status is None or status >= 500):
            # No response at all: the server answers 500 for the app.
            error = f"HTTP {status if status is not None else 500}"
        if error is not None:
            probe.recorder.fail(op, end, end - t0, cpu, error)
        elif status is not None and status >= 400:
            probe.recorder.client_error(op, end, end - t0, cpu)
        else:
            probe.recorder.ok(op, end, end - t0, cpu)
