"""ASGI middleware (Starlette, FastAPI): one tracked call per HTTP request.

- operation: the method and the *route template* that the router matched
  (``"GET /items/{item_id}"``), read from ``scope["route"]`` after routing, with the paths of
  enclosing mounts in front; never the raw path, so ids in URLs cannot explode the series.
  Requests no route matched count as ``"GET (unmatched)"``.
- latency: from the request's arrival until the app hands the server the last byte of the
  response (the final ``http.response.body``), so streaming responses are timed in full and
  background tasks that run after the response are not.
- CPU: the event-loop thread's CPU spent in this request's task (see ``sdk/track.py``) up to
  the last byte, measured on a time-based sample of requests (see ``cpu_sample_interval``).
  Sync endpoints that the framework runs in a thread pool do their work on another thread:
  decorate them with ``@monitor.track`` to measure that thread's CPU.
- outcome: an exception is a failure with its type; a 5xx status a failure ``"HTTP 503"``;
  a 4xx a client error.
- shutdown: when the server shuts the app down (the ASGI lifespan's shutdown, which uvicorn
  runs on SIGTERM before the process ends), the monitor ships what is left and says that the
  instance stopped, so a deploy or restart raises no alert.
- not traffic: the middleware answers Prometheus scrapes of ``metrics_path`` (``/metrics``,
  with or without a trailing slash) itself, and passes ``exclude``'d paths (health checks) to
  the app; neither is timed or counted.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from mlvitals.sdk.track import Probe, Steps, error_type
from mlvitals.sdk.untracked import METRICS_PATH, Untracked

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"
CPU_SAMPLE_INTERVAL = 0.005
"""Default seconds between the starts of requests whose CPU time is measured."""
MAX_CACHED = 4096
NAN = math.nan


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


class AsgiMiddleware:
    """Tracks every HTTP request of an ASGI app.

    >>> from mlvitals import Monitor
    >>> monitor = Monitor("fraud-model", background=False)
    >>> async def app(scope, receive, send): ...
    >>> wrapped = AsgiMiddleware(app, monitor=monitor)   # or monitor.asgi(app)
    >>> monitor.close()
    True

    With FastAPI or Starlette: ``app.add_middleware(AsgiMiddleware, monitor=monitor)``.

    ``cpu_sample_interval``: reading a thread's CPU clock is a system call (about 0.6 us
    on a virtual machine), and following a request's steps costs two per step, more than
    everything else the middleware does per request. So CPU is measured for every request
    unless the last measured one started less than this many seconds before (default 5 ms):
    every request of a service under 200 requests per second, and about 200 per second
    above that (2,000 in a 10-second window). Latency, outcome and counts cover every
    request. A window's CPU seconds are its measured requests' sum scaled up to all of its
    requests; its CPU sketch holds the measured ones. ``0`` measures every request; by
    default the monitor's ``cpu_sample_interval``.

    ``metrics_path``: the middleware answers this path (and the path with a trailing slash)
    with the monitor's Prometheus exposition, without passing it to the app or counting it;
    ``None`` leaves the path to the app. ``exclude``: paths (and everything below them) that
    go to the app but are not counted, such as health checks. Paths are relative to the
    middleware's ``root_path``.
    """

    def __init__(
        self,
        app: ASGIApp,
        monitor: Any,
        *,
        cpu_sample_interval: float | None = None,
        metrics_path: str | None = METRICS_PATH,
        exclude: Iterable[str] = (),
    ) -> None:
        probe: Probe = monitor._probe
        if cpu_sample_interval is None:
            cpu_sample_interval = probe.cpu_sample_interval
        if not cpu_sample_interval >= 0:
            raise ValueError(
                f"cpu_sample_interval must be zero or more seconds, got {cpu_sample_interval}"
            )
        self.app = app
        self._untracked = Untracked(metrics_path, exclude)
        self._monitor = monitor
        self._metrics_app: ASGIApp | None = None
        monitor._serves()
        self._timer = probe.timer
        self._cpu_timer = probe.cpu_timer
        self._ok = probe.recorder.ok
        self._fail = probe.recorder.fail
        self._client_error = probe.recorder.client_error
        self._interval = cpu_sample_interval
        self._next_cpu = -math.inf
        self._operations: dict[tuple[Any, ...], tuple[Any, str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._on_shutdown(send)
            await self.app(scope, receive, send)
            return
        entry_root = scope.get("root_path") or ""
        path: str = scope.get("path") or "/"
        if entry_root and path.startswith(entry_root):
            path = path[len(entry_root) :] or "/"
        if self._untracked.is_metrics(path):
            await self._metrics(scope, receive, send)
            return
        if self._untracked.excluded(path):
            await self.app(scope, receive, send)
            return
        timer = self._timer
        t0 = timer()
        status = 0
        end = 0.0
        steps: Steps | None = None
        if t0 >= self._next_cpu:
            self._next_cpu = t0 + self._interval
            steps = Steps(self._cpu_timer)

        def send_last_byte(message: Message) -> Awaitable[None]:
            # A plain function that hands back the server's own awaitable: no coroutine of
            # ours per message. The clock stops when the app hands over the last byte.
            nonlocal status, end
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
            elif not end and (
                (kind == "http.response.body" and not message.get("more_body", False))
                or kind == "http.response.pathsend"
            ):
                end = timer()
                if steps is not None:
                    steps.freeze()
            return send(message)

        try:
            handling = self.app(scope, receive, send_last_byte)
            if steps is not None and inspect.iscoroutine(handling):
                await steps.drive(handling)
            else:  # not measured, or an awaitable whose steps cannot be followed
                steps = None
                await handling
        except BaseException as exc:
            t1 = end or timer()
            cpu = steps.cpu if steps is not None else NAN
            self._fail(self._operation(scope, entry_root), t1, t1 - t0, cpu, error_type(exc))
            raise
        t1 = end or timer()
        cpu = steps.cpu if steps is not None else NAN
        route = scope.get("route")
        cached = self._operations.get(
            (scope["method"], id(route), entry_root, scope.get("root_path"))
        )
        op = (
            cached[1]
            if cached is not None and cached[0] is route
            else self._operation(scope, entry_root)
        )
        if status >= 500 or not status:
            # No response at all: the server answers 500 for the app.
            self._fail(op, t1, t1 - t0, cpu, f"HTTP {status or 500}")
        elif status >= 400:
            self._client_error(op, t1, t1 - t0, cpu)
        else:
            self._ok(op, t1, t1 - t0, cpu)

    def _on_shutdown(self, send: Send) -> Send:
        stopping = self._monitor._stopping

        async def send_after_stopping(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                stopping()
            await send(message)

        return send_after_stopping

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._metrics_app is None:
            self._metrics_app = self._monitor.metrics_app()
        await self._metrics_app(scope, receive, send)

    def _operation(self, scope: Scope, entry_root: str) -> str:
        """The request's operation, remembered per method, route and mount.

        Routes are keyed by identity (FastAPI's cannot be hashed); the route is kept with
        the operation, so an id reused by another route object is never mistaken for it.
        """
        route = scope.get("route")
        key = (scope["method"], id(route), entry_root, scope.get("root_path"))
        cached = self._operations.get(key)
        if cached is not None and cached[0] is route:
            return cached[1]
        op = http_operation(str(scope.get("method", "")), route_template(scope, entry_root))
        if len(self._operations) < MAX_CACHED:  # odd methods or mounts cannot grow it for ever
            self._operations[key] = (route, op)
        return op
