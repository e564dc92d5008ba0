"""``Monitor``: the serving SDK's entry point.

One monitor per service per process. It times calls (``track``, the ASGI and WSGI
middleware), aggregates them per operation and window at the edge, samples process and GPU
resources, exposes Prometheus metrics and, given a server, ships windows and samples to it.
See ``docs/sdk.md``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from mlvitals.errors import ConfigError
from mlvitals.sdk.asgi import ASGIApp, AsgiMiddleware
from mlvitals.sdk.collector import Collector, CollectorThread, Identity, Records
from mlvitals.sdk.gpu import GpuSampler
from mlvitals.sdk.instance import default_instance, instance_from_environment
from mlvitals.sdk.recorder import MAX_NAME, Recorder
from mlvitals.sdk.resources import ResourceSampler
from mlvitals.sdk.track import Probe, Span
from mlvitals.sdk.transport import HttpTransport, Transport
from mlvitals.sdk.untracked import METRICS_PATH
from mlvitals.sdk.wsgi import Environ, WSGIApp, WsgiMiddleware, flask_route
from mlvitals.settings import resolve
from mlvitals.sketches import DEFAULT_BOUNDS

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from mlvitals.pipelines.tracker import RunTracker
    from mlvitals.quality import CheckResult, Profile

log = logging.getLogger("mlvitals.sdk")

F = TypeVar("F", bound=Callable[..., Any])

_LIVE: weakref.WeakSet[Monitor] = weakref.WeakSet()


class Monitor:
    """Watches one model service in this process.

    >>> from mlvitals import Monitor
    >>> monitor = Monitor("fraud-model", version="2.3.1", background=False)
    >>> @monitor.track
    ... def predict(x):
    ...     return x * 2
    >>> predict(21)
    42
    >>> with monitor.track("preprocess"):
    ...     pass
    >>> monitor.close()
    True

    Arguments:
        service, version: what is being served (1-200 and 0-200 characters).
        server: the mlvitals server's base URL, e.g. ``"http://127.0.0.1:8765"``; with none
            here or in ``MLVITALS_SERVER``, nothing is shipped (Prometheus only).
        token: bearer token for the server's ingest scope. ``service``, ``version``,
            ``server`` and ``token`` not given are read from ``MLVITALS_SERVICE``,
            ``MLVITALS_VERSION``, ``MLVITALS_SERVER`` and ``MLVITALS_TOKEN``.
        window: seconds per aggregation window (default 10).
        instance: this process's name in the fleet (1-200 characters). Default: the
            ``MLVITALS_INSTANCE`` environment variable, else the hostname for a container's
            main process (the pod name in Kubernetes), else ``"host:pid"``; see
            :mod:`mlvitals.sdk.instance`. A forked child gets ``"<instance>:<child pid>"``.
        max_series: distinct operations kept per process; calls of any further operation are
            counted under ``"__other__"``.
        clock: wall-clock seconds for window boundaries and sample times (``time.time``).
        timer: monotonic seconds for latency (``time.perf_counter``).
        cpu_timer: per-thread CPU seconds (``time.thread_time``).
        cpu_sample_interval: seconds; a tracked call (or request) has its CPU time measured
            only if the last measured call of its operation started this long before or more
            (default: ``MLVITALS_CPU_SAMPLE_INTERVAL``, else 0.005). A window's CPU seconds
            scale the measured calls up to all of its calls; latency, outcome and count
            cover every call. ``0`` measures every call.
        transport: where records go (default: :class:`HttpTransport` when ``server`` is set).
        registry: a prometheus-client registry to register the metrics in (default: a
            registry of this monitor's own, ``monitor.prometheus_registry``).
        nvml: the NVML module for GPU readings (default: pynvml if installed; ``False``: none).
        background: run the collector thread (default). With ``False``, call
            :meth:`collect` yourself.
        tick: seconds between resource readings and takes of buffered calls.
        histogram_bounds: upper bounds of the Prometheus histograms, in seconds.
        flush_timeout_at_exit: seconds to spend shipping what is left at interpreter exit.
        serving: a service instance from the start. Without it the process becomes one at
            its first tracked call, or when :meth:`asgi` or :meth:`wsgi` wraps an app; until
            then (a batch job's monitor, used for runs and checks) it sends no serving
            records, so the server does not expect it to keep reporting.
    """

    def __init__(
        self,
        service: str | None = None,
        version: str | None = None,
        server: str | None = None,
        token: str | None = None,
        window: float = 10.0,
        instance: str | None = None,
        max_series: int = 200,
        *,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.perf_counter,
        cpu_timer: Callable[[], float] = time.thread_time,
        cpu_sample_interval: float | None = None,
        transport: Transport | None = None,
        registry: CollectorRegistry | None = None,
        nvml: Any = None,
        background: bool = True,
        tick: float = 1.0,
        histogram_bounds: Sequence[float] = DEFAULT_BOUNDS,
        flush_timeout_at_exit: float = 3.0,
        serving: bool = False,
    ) -> None:
        given = resolve(
            {
                "service": service,
                "version": version,
                "server": server,
                "token": token,
                "cpu_sample_interval": cpu_sample_interval,
            }
        )
        if service is None and not given["service"]:
            raise ConfigError("no service name: pass Monitor('name') or set MLVITALS_SERVICE")
        service, version = str(given["service"]), str(given["version"])
        server, token = given["server"] or None, given["token"] or None
        if not service or len(service) > MAX_NAME:
            raise ConfigError(f"service must be 1-{MAX_NAME} characters, got {service!r}")
        if len(version) > MAX_NAME:
            raise ConfigError(f"version must be at most {MAX_NAME} characters")
        if not 0 < window <= 86400:
            raise ConfigError(f"window must be between 0 and 86400 seconds, got {window}")
        if max_series < 1:
            raise ConfigError(f"max_series must be at least 1, got {max_series}")
        sample_interval = given["cpu_sample_interval"]
        if not (isinstance(sample_interval, int | float) and sample_interval >= 0):
            raise ConfigError(
                f"cpu_sample_interval must be zero or more seconds, got {sample_interval!r}"
            )
        if tick <= 0:
            raise ConfigError(f"tick must be a positive number of seconds, got {tick}")
        if server is not None and not server.startswith(("http://", "https://")):
            raise ConfigError(f"server must be an http:// or https:// URL, got {server!r}")
        if instance is None:
            instance = instance_from_environment()
        elif not 0 < len(instance) <= MAX_NAME:
            raise ConfigError(f"instance must be 1-{MAX_NAME} characters, got {instance!r}")
        self.service = service
        self.version = version
        self.window = window
        self._given_instance = instance
        self._nvml = nvml
        self._clock = clock
        self._background = background
        self._bounds = tuple(histogram_bounds)
        self._exit_timeout = flush_timeout_at_exit
        self._closed = False
        self._lock = threading.Lock()

        # The collector folds calls with NumPy: import it now, at start-up, rather than
        # in the collector thread's first tick while requests are being served.
        import numpy  # noqa: F401

        self._recorder = Recorder(max_series, on_new_thread=self._on_new_thread)
        self._probe = Probe(self._recorder, timer, cpu_timer, float(sample_interval))
        self._collector = Collector(
            identity=self._identity(),
            recorder=self._recorder,
            sampler=ResourceSampler(GpuSampler(nvml=nvml)),
            clock=clock,
            window=window,
            serving=serving,
        )
        self._owns_transport = transport is None and server is not None
        if transport is None and server is not None:
            transport = HttpTransport(server, token)
        self._transport = transport
        self._server, self._token = server, token
        self._quality: Transport | None = None
        self._thread = CollectorThread(
            self._collector, self._ship, tick_interval=min(tick, window), clock=clock
        )
        self._registry: CollectorRegistry | None = None
        self._tracker: RunTracker | None = None
        if registry is not None:
            self._registry = registry
            registry.register(self._prometheus_collector())
        _LIVE.add(self)
        if background:
            self._thread.ensure_started()

    # -- identity --------------------------------------------------------------------------------

    def _identity(self) -> Identity:
        return Identity(self.service, self.version, self._instance_name())

    def _instance_name(self) -> str:
        if self._given_instance is None:
            return default_instance()
        return self._given_instance[:MAX_NAME]

    @property
    def instance(self) -> str:
        """This process's name in the fleet."""
        return self._collector.identity.instance

    # -- timing calls ----------------------------------------------------------------------------

    @overload
    def track(self, operation: F, /) -> F: ...

    @overload
    def track(self, operation: str | None = None, /) -> Span: ...

    def track(self, operation: Any = None, /) -> Any:
        """Time calls: ``@monitor.track``, ``@monitor.track("op")``, ``with monitor.track("op")``.

        Sync and ``async def`` functions both work; the operation defaults to the function's
        qualified name. Exceptions are recorded with their type and re-raised unchanged.
        """
        if callable(operation):
            return self._probe.wrap(operation, operation.__qualname__)
        if operation is None:
            return _NameFromFunction(self._probe)
        if not isinstance(operation, str):
            raise TypeError(f"track() takes a function or an operation name, got {operation!r}")
        return Span(self._probe, operation)

    def asgi(
        self,
        app: ASGIApp,
        *,
        cpu_sample_interval: float | None = None,
        metrics_path: str | None = METRICS_PATH,
        exclude: Iterable[str] = (),
    ) -> AsgiMiddleware:
        """Wrap an ASGI app (Starlette, FastAPI) to track every HTTP request.

        ``cpu_sample_interval``: see :class:`~mlvitals.sdk.asgi.AsgiMiddleware` (default: the
        monitor's; 0 measures the CPU time of every request). The middleware answers
        ``metrics_path`` with the Prometheus exposition; ``exclude``'d paths (health checks)
        are not counted.
        """
        return AsgiMiddleware(
            app,
            self,
            cpu_sample_interval=cpu_sample_interval,
            metrics_path=metrics_path,
            exclude=exclude,
        )

    def wsgi(
        self,
        app: WSGIApp,
        *,
        route: Callable[[Environ], str | None] = flask_route,
        metrics_path: str | None = METRICS_PATH,
        exclude: Iterable[str] = (),
    ) -> WsgiMiddleware:
        """Wrap a WSGI app (Flask: ``app.wsgi_app = monitor.wsgi(app.wsgi_app)``); the same
        ``metrics_path`` and ``exclude`` as :meth:`asgi`."""
        return WsgiMiddleware(app, self, route=route, metrics_path=metrics_path, exclude=exclude)

    # -- Prometheus ------------------------------------------------------------------------------

    def _prometheus_collector(self) -> Any:
        from mlvitals.sdk.prometheus import MonitorCollector

        return MonitorCollector(self._collector, bounds=self._bounds, dropped=self._dropped)

    @property
    def prometheus_registry(self) -> CollectorRegistry:
        """The prometheus-client registry holding this monitor's metrics."""
        with self._lock:
            if self._registry is None:
                from prometheus_client import CollectorRegistry

                self._registry = CollectorRegistry()
                self._registry.register(self._prometheus_collector())
            return self._registry

    def metrics_app(self) -> Any:
        """An ASGI app serving the Prometheus exposition (mount it at ``/metrics``)."""
        from mlvitals.sdk.prometheus import metrics_asgi_app

        return metrics_asgi_app(self.prometheus_registry)

    def metrics_wsgi_app(self) -> Any:
        """A WSGI app serving the Prometheus exposition."""
        from prometheus_client import make_wsgi_app

        return make_wsgi_app(self.prometheus_registry)

    # -- pipeline and training runs ---------------------------------------------------------------

    def run(
        self,
        pipeline: str,
        *,
        kind: str = "data",
        scheduled_at: float | datetime | None = None,
        trigger: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """A tracked run of ``pipeline`` (context manager yielding the run, or decorator),
        whose records ship in this monitor's batches. See ``docs/pipelines.md``.

        >>> records = []
        >>> class Keep:
        ...     def send(self, batch): records.extend(batch)
        ...     def flush(self, timeout): return True
        ...     def close(self, timeout): return True
        ...     def after_fork(self): pass
        >>> monitor = Monitor("trainer", transport=Keep(), background=False)
        >>> with monitor.run("retrain-fraud", kind="training", trigger="manual") as run:
        ...     with run.step("fit"):
        ...         run.set_model_version("1.4.0")
        >>> run.state, sorted({r["kind"] for r in records})
        ('succeeded', ['environment', 'run', 'step'])
        >>> monitor.close()
        True
        """
        return self._runs().run(
            pipeline, kind=kind, scheduled_at=scheduled_at, trigger=trigger, params=params
        )

    def step(self, name: str) -> Any:
        """A step of the current run (context manager yielding the step, or decorator)."""
        return self._runs().step(name)

    def _runs(self) -> RunTracker:
        with self._lock:
            if self._tracker is None:
                from mlvitals.pipelines.tracker import RunTracker

                self._tracker = RunTracker(self._emit_run_record)
            return self._tracker

    def _emit_run_record(self, record: dict[str, Any]) -> None:
        if self._transport is not None:
            self._transport.send([record])

    # -- data quality -----------------------------------------------------------------------------

    def profile(self, data: Any, *, dataset: str, reference: Any = None, **options: Any) -> Profile:
        """Profile ``data`` with :func:`mlvitals.quality.profile`, send the profile as the
        ``dataset_profile`` record of ``dataset``, and return it.

        ``reference`` is a :class:`~mlvitals.quality.Profile` or the path of a saved one
        (its bin edges are used); ``options`` go to :func:`mlvitals.quality.profile`. Inside
        a run (:meth:`run`) the record names the run and step. Sending never raises.

        >>> import pyarrow as pa
        >>> monitor = Monitor("etl", background=False)
        >>> monitor.profile(pa.table({"x": [1.0, 2.0, 3.0]}), dataset="features").rows
        3
        >>> monitor.close()
        True
        """
        from mlvitals.sdk.quality import profile_and_send

        return profile_and_send(
            self._ship_quality,
            data,
            dataset=dataset,
            reference=reference,
            clock=self._clock,
            options=options,
        )

    def check(
        self, data: Any, *, reference: Any, dataset: str, schema: Any = None, **options: Any
    ) -> CheckResult:
        """Check ``data`` against ``reference`` with :func:`mlvitals.quality.check`, send
        the result as the ``check_result`` record of ``dataset``, and return it.

        ``reference`` is data, a :class:`~mlvitals.quality.Profile` or a saved profile's
        path; ``schema`` and ``options`` (``policy``, ``format``, ...) go to
        :func:`mlvitals.quality.check`. The server shows the result on ``/datasets`` and
        evaluates ``check_failed`` and ``drift`` alert rules over it. Sending never raises.

        >>> import pandas as pd
        >>> monitor = Monitor("etl", background=False)
        >>> ref = pd.DataFrame({"age": [30, 40, 50, 60] * 50})
        >>> monitor.check(ref.assign(age=ref.age + 25), reference=ref, dataset="users").passed
        False
        >>> monitor.close()
        True
        """
        from mlvitals.sdk.quality import check_and_send

        return check_and_send(
            self._ship_quality,
            data,
            reference,
            dataset=dataset,
            schema=schema,
            clock=self._clock,
            options=options,
        )

    def _quality_transport(self) -> Transport | None:
        with self._lock:
            if self._quality is None and self._transport is not None:
                if self._owns_transport and self._server is not None:
                    # One record per request: a profile of wide data is megabytes, and a batch
                    # of several would pass the server's body limit and take the serving
                    # windows queued with it down too.
                    self._quality = HttpTransport(
                        self._server, self._token, batch_size=1, max_buffer=100
                    )
                else:
                    self._quality = self._transport
            return self._quality

    def _ship_quality(self, build: Callable[[], dict[str, Any]]) -> None:
        from mlvitals.sdk.quality import send

        send(self._quality_transport(), build)

    # -- windows, shipping and shutdown ----------------------------------------------------------

    def collect(self) -> Records:
        """Do one collector tick now and ship what it closed; returns those records.

        The background thread does this every ``tick`` seconds; call it yourself with
        ``background=False``.
        """
        records = self._collector.tick()
        self._ship(records)
        return records

    def flush(self, timeout: float = 5.0) -> bool:
        """Close the open window early, ship everything recorded so far and wait for it.

        Returns True when the server has taken it all (or there is no server), False when
        ``timeout`` seconds passed first. The window is split: the rest of it is shipped
        later as a window of its own.
        """
        self._ship(self._collector.tick(force=True))
        if self._transport is None:
            return True
        deadline = time.monotonic() + timeout
        done = self._transport.flush(timeout)
        quality = self._quality
        if quality is not None and quality is not self._transport:
            done = quality.flush(max(deadline - time.monotonic(), 0.0)) and done
        return done

    def close(self, timeout: float = 5.0) -> bool:
        """Stop the collector, ship what is left (for up to ``timeout`` s) and stop shipping.

        A service instance's last record says that it stopped: the server shows it as
        stopped, not down, and raises no alert for its silence. Calls recorded after
        ``close()`` are discarded. Called for you at interpreter exit.
        """
        if self._closed:
            return True
        self._closed = True
        self._thread.stop()
        self._recorder.close()
        try:
            self._ship(self._collector.tick(stopping=True))
        finally:
            _LIVE.discard(self)
        done = True
        if self._transport is not None:
            deadline = time.monotonic() + timeout
            done = self._transport.close(timeout)
            quality = self._quality
            if quality is not None and quality is not self._transport:
                done = quality.close(max(deadline - time.monotonic(), 0.0)) and done
        self._collector.close()
        return done

    def _serves(self) -> None:
        """A middleware wraps an app: this process is a service instance from now on."""
        self._collector.serving = True

    def _stopping(self) -> None:
        """The server this monitor's middleware runs in is shutting down (ASGI lifespan):
        ship what is left and say that the instance stopped, before the process may be
        ended by the signal that stopped the server. Calls recorded later still count; an
        instance that serves again reports again."""
        if self._closed:
            return
        self._ship(self._collector.tick(stopping=True))
        if self._transport is not None:
            self._transport.flush(self._exit_timeout)

    def _abandon(self) -> None:
        """Stop as a killed process does: nothing more is shipped, not even that it stopped
        (the demo's staged crash)."""
        self._closed = True
        self._thread.stop()
        self._recorder.close()
        _LIVE.discard(self)
        if self._transport is not None:
            self._transport.close(0.0)
        self._collector.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def dropped_records(self) -> int:
        """Records the shipper dropped: buffer full while the server was away, unsent at
        close, or in a batch the server refused or kept failing."""
        return self._dropped()

    @property
    def folded_calls(self) -> int:
        """Calls counted under ``"__other__"`` because ``max_series`` operations existed."""
        return self._collector.snapshot().folded_calls

    def _dropped(self) -> int:
        quality = self._quality if self._quality is not self._transport else None
        return int(getattr(self._transport, "dropped", 0)) + int(getattr(quality, "dropped", 0))

    def _ship(self, records: Records) -> None:
        if records and self._transport is not None:
            self._transport.send(records)

    def _on_new_thread(self) -> None:
        # After a fork the collector thread is started by the first call, not by the fork.
        if self._background and not self._closed:
            self._thread.ensure_started()

    def _after_fork_in_child(self) -> None:
        if self._given_instance is not None:
            self._given_instance = f"{self._given_instance}:{os.getpid()}"
        self._lock = threading.Lock()
        self._recorder.reset()
        self._collector.after_fork(self._identity(), ResourceSampler(GpuSampler(nvml=self._nvml)))
        self._thread.after_fork()
        if self._transport is not None:
            self._transport.after_fork()
        if self._quality is not None and self._quality is not self._transport:
            self._quality.after_fork()

    def __repr__(self) -> str:
        return f"Monitor({self.service!r}, version={self.version!r}, instance={self.instance!r})"


class _NameFromFunction:
    """``@monitor.track()`` with no name: the function's qualified name."""

    def __init__(self, probe: Probe) -> None:
        self._probe = probe

    def __call__(self, fn: F) -> F:
        return self._probe.wrap(fn, fn.__qualname__)


def _after_fork_in_child() -> None:
    for monitor in list(_LIVE):
        try:
            monitor._after_fork_in_child()
        except Exception:
            log.exception("mlvitals: resetting a monitor after fork failed")


def _close_all_at_exit() -> None:
    for monitor in list(_LIVE):
        try:
            monitor.close(monitor._exit_timeout)
        except Exception:
            log.exception("mlvitals: closing a monitor at exit failed")


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all_at_exit)
