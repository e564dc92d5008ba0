"""WSGI middleware (Flask, any WSGI app): one tracked call per HTTP request.

- operation: the method and the route template. For Flask it is ``request.url_rule.rule``
  (``"GET /items/<int:item_id>"``), read while Flask's request is alive; for other
  frameworks pass ``route=`` a function of the WSGI environ. Unmatched requests count as
  ``"GET (unmatched)"``; the raw path is never used.
- latency: until the response iterable is exhausted (the last byte) or closed (PEP 3333
  ``close()``), whichever comes first, so streamed responses are timed in full.
- CPU: the handling thread's CPU time over the same span (up to the app's return if the
  iterable is closed on another thread).
- outcome: an exception is a failure with its type; 5xx a failure ``"HTTP 500"``; 4xx a
  client error. Flask turns view exceptions into 500 responses unless it propagates them.
- not traffic: the middleware answers Prometheus scrapes of ``metrics_path`` itself, and
  passes ``exclude``'d paths (health checks) to the app; neither is timed or counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mlvitals.sdk.asgi import http_operation
from mlvitals.sdk.track import Probe, error_type
from mlvitals.sdk.untracked import METRICS_PATH, Untracked

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def flask_route(environ: Environ) -> str | None:
    """The Flask/Werkzeug URL rule of the request being handled, if any."""
    request = environ.get("werkzeug.request")
    rule = getattr(request, "url_rule", None)
    template = getattr(rule, "rule", None)
    return template if isinstance(template, str) else None


def _url_map_matcher(app: Any) -> Callable[[Environ], str | None] | None:
    """For a Flask app (or its ``wsgi_app``): match a request against its URL map.

    Used when the request is gone before the route was read: an exception that Flask
    propagates ends the request before any response starts.
    """
    url_map = getattr(app, "url_map", None) or getattr(
        getattr(app, "__self__", None), "url_map", None
    )
    if url_map is None or not hasattr(url_map, "bind_to_environ"):
        return None

    def match(environ: Environ) -> str | None:
        try:
            rule, _ = url_map.bind_to_environ(environ).match(return_rule=True)
        except Exception:  # NotFound, MethodNotAllowed, RequestRedirect
            return None
        template = getattr(rule, "rule", None)
        return template if isinstance(template, str) else None

    return match


class _Exchange:
    __slots__ = (
        "c0",
        "c_returned",
        "done",
        "environ",
        "fallback",
        "probe",
        "route",
        "status",
        "t0",
        "template",
        "thread",
    )

    def __init__(
        self,
        probe: Probe,
        environ: Environ,
        route: Callable[[Environ], str | None],
        fallback: Callable[[Environ], str | None] | None,
    ):
        self.probe = probe
        self.environ = environ
        self.route = route
        self.fallback = fallback
        self.status: int | None = None
        self.template: str | None = None
        self.done = False
        self.thread = threading.get_ident()
        self.t0 = probe.timer()
        self.c0 = probe.cpu_timer()
        self.c_returned: float | None = None

    def resolve(self) -> None:
        if self.template is None:
            try:
                self.template = self.route(self.environ)
            except Exception:
                self.template = None

    def finish(self, error: str | None) -> None:
        if self.done:
            return
        self.done = True
        probe = self.probe
        c1 = probe.cpu_timer()
        t1 = probe.timer()
        if threading.get_ident() != self.thread:
            c1 = self.c_returned if self.c_returned is not None else self.c0
        cpu = max(c1 - self.c0, 0.0)
        self.resolve()
        if self.template is None and self.fallback is not None:
            try:
                self.template = self.fallback(self.environ)
            except Exception:
                self.template = None
        op = http_operation(str(self.environ.get("REQUEST_METHOD", "")), self.template)
        status = self.status
        if error is None and (status is None or status >= 500):
            error = f"HTTP {status if status is not None else 500}"
        if error is not None:
            probe.recorder.fail(op, t1, t1 - self.t0, cpu, error)
        elif status is not None and status >= 400:
            probe.recorder.client_error(op, t1, t1 - self.t0, cpu)
        else:
            probe.recorder.ok(op, t1, t1 - self.t0, cpu)


class _Body:
    """The app's response iterable, timed until ``close()``."""

    def __init__(self, body: Iterable[bytes], ex: _Exchange) -> None:
        self._body = body
        self._ex = ex

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except GeneratorExit:  # the iterator was dropped; close() decides the outcome
            raise
        except BaseException as exc:
            self._ex.finish(error_type(exc))
            raise
        self._ex.finish(None)  # the last byte is out; close() may come later, or never

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        except BaseException as exc:
            self._ex.finish(error_type(exc))
            raise
        self._ex.finish(None)


class WsgiMiddleware:
    """Tracks every request of a WSGI app.

    >>> from flask import Flask
    >>> from mlvitals import Monitor
    >>> app = Flask("demo")
    >>> monitor = Monitor("fraud-model", background=False)
    >>> app.wsgi_app = monitor.wsgi(app.wsgi_app)   # or WsgiMiddleware(app.wsgi_app, monitor)
    >>> monitor.close()
    True

    ``metrics_path`` (default ``/metrics``; ``None``: left to the app) is answered with the
    monitor's Prometheus exposition; ``exclude``'d paths (and those below them) go to the
    app uncounted. Paths are ``PATH_INFO``, relative to ``SCRIPT_NAME``.
    """

    def __init__(
        self,
        app: WSGIApp,
        monitor: Any,
        *,
        route: Callable[[Environ], str | None] = flask_route,
        metrics_path: str | None = METRICS_PATH,
        exclude: Iterable[str] = (),
    ) -> None:
        self.app = app
        self._untracked = Untracked(metrics_path, exclude)
        self._monitor = monitor
        self._metrics_app: WSGIApp | None = None
        monitor._serves()
        self._probe: Probe = monitor._probe
        self._route = route
        self._fallback = _url_map_matcher(app) if route is flask_route else None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if self._untracked.is_metrics(path):
            if self._metrics_app is None:
                self._metrics_app = self._monitor.metrics_wsgi_app()
            return self._metrics_app(environ, start_response)
        if self._untracked.excluded(path):
            return self.app(environ, start_response)
        ex = _Exchange(self._probe, environ, self._route, self._fallback)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            try:
                ex.status = int(status.split(" ", 1)[0])
            except ValueError:
                ex.status = None
            # Flask's request (and its URL rule) is alive now, and gone once the app returns.
            ex.resolve()
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException as exc:
            ex.finish(error_type(exc))
            raise
        ex.c_returned = self._probe.cpu_timer()
        return _Body(body, ex)
