"""Run and step tracking around an injected sink.

A :class:`RunTracker` turns ``with tracker.run(...)`` and ``with run.step(...)`` into
wire records (see :mod:`mlvitals.pipelines.wire`) handed to ``emit``: a list's
``append`` in tests, :class:`~mlvitals.pipelines.sinks.HttpSink` for scripts, the
SDK's background shipper later. ``emit`` failures are logged, never raised: monitoring
must not break the pipeline it watches.

>>> records = []
>>> tracker = RunTracker(records.append, environment=False)
>>> with tracker.run("nightly-etl", trigger="schedule") as run:
...     with run.step("extract") as step:
...         _ = step.output("warehouse.orders")
>>> [f"{r['kind']}:{r['event']}" for r in records if r["kind"] != "dataset"]
['run:start', 'step:start', 'step:complete', 'run:complete']
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from mlvitals.pipelines.datasets import DatasetRef, describe
from mlvitals.pipelines.environment import Environment, capture_environment
from mlvitals.pipelines.lifecycle import _end_event, _raise_terminated, _Spec
from mlvitals.pipelines.resources import ResourceMeter, Window
from mlvitals.pipelines.wire import (
    RUN_KINDS,
    dataset_record,
    error_info,
    run_record,
    step_record,
)

log = logging.getLogger("mlvitals.pipelines")

Emit = Callable[[dict[str, Any]], None]

# The innermost active run of this thread or task, and the id of its innermost open step.
_Current = tuple["Run", str | None]
_CURRENT: contextvars.ContextVar[_Current | None] = contextvars.ContextVar(
    "mlvitals_current_run", default=None
)


def _timestamp(value: float | datetime | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return value
    if value.tzinfo is None:
        raise ValueError("scheduled_at must be timezone-aware (or Unix seconds)")
    return value.timestamp()


class RunTracker:
    """Makes runs and steps and emits their records.

    ``clock`` gives Unix seconds; ``environment`` is ``True`` (capture at each run start),
    ``False``, or a callable returning an :class:`Environment`; ``run_id`` and
    ``parent_step_id`` join a run of another process (default: the ``MLVITALS_RUN_ID``
    and ``MLVITALS_PARENT_STEP_ID`` settings).
    """

    def __init__(
        self,
        emit: Emit,
        *,
        clock: Callable[[], float] = time.time,
        environment: bool | Callable[[], Environment] = True,
        meter: ResourceMeter | None = None,
        join_run_id: str | None = None,
        join_parent_step_id: str | None = None,
        host: str | None = None,
    ) -> None:
        self._emit = emit
        self.clock = clock
        if environment is True:
            self._capture: Callable[[], Environment] | None = capture_environment
        elif environment is False:
            self._capture = None
        else:
            self._capture = environment
        self.meter = meter or ResourceMeter()
        if join_run_id is None:
            from mlvitals.settings import load_settings

            settings = load_settings()
            join_run_id, join_parent_step_id = settings.run_id, settings.parent_step_id
        self.join_run_id = join_run_id or None
        self.join_parent_step_id = join_parent_step_id or None
        self.host = host or socket.gethostname()
        self._sent_environments: set[str] = set()
        self._warned = False

    def emit(self, record: dict[str, Any]) -> None:
        try:
            self._emit(record)
        except Exception as exc:
            if not self._warned:
                self._warned = True
                log.warning("mlvitals: could not emit a %s record: %s", record["kind"], exc)

    def run(
        self,
        pipeline: str,
        *,
        kind: str = "data",
        scheduled_at: float | datetime | None = None,
        trigger: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> _Spec[Run]:
        """A run of ``pipeline``, as a context manager (yielding the :class:`Run`) or decorator.

        Inside another run it becomes a child run; in a process that joins a run (see
        ``join_run_id``) it adds its steps to that run instead of starting one.
        """
        if not pipeline or len(pipeline) > 200:
            raise ValueError("pipeline must be a name of 1-200 characters")
        if kind not in RUN_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RUN_KINDS)}; got {kind!r}")
        when = _timestamp(scheduled_at)
        return _Spec(lambda: Run(self, pipeline, kind, when, trigger, dict(params or {})))

    def step(self, name: str) -> _Spec[Step | _Untracked]:
        """A step of the current run (context manager or decorator); untracked outside a run."""
        return _Spec(lambda: _step_in_context(self, name))

    def environment_hash(self) -> str | None:
        if self._capture is None:
            return None
        env = self._capture()
        if env.hash not in self._sent_environments:
            self.emit({"kind": "environment", **env.to_dict()})
            self._sent_environments.add(env.hash)
        return env.hash


def _step_in_context(tracker: RunTracker, name: str) -> Step | _Untracked:
    current = _CURRENT.get()
    if current is not None:
        return Step(current[0], name)
    if tracker.join_run_id is not None:
        return Step(_JoinedRun(tracker, tracker.join_run_id, tracker.join_parent_step_id), name)
    return _Untracked()


class _Untracked:
    """What a step outside any run yields: it records nothing."""

    def __enter__(self) -> _Untracked:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def input(self, data: Any, **kwargs: Any) -> None:
        return None

    def output(self, data: Any, **kwargs: Any) -> None:
        return None


class Run:
    """A live run; made by :meth:`RunTracker.run`. ``id`` is a UUID string."""

    def __init__(
        self,
        tracker: RunTracker,
        pipeline: str,
        kind: str,
        scheduled_at: float | None,
        trigger: str | None,
        params: dict[str, Any],
    ) -> None:
        self.tracker = tracker
        self.pipeline = pipeline
        self.kind = kind
        self.scheduled_at = scheduled_at
        self.trigger = trigger
        self.params = params
        self.id = str(uuid.uuid4())
        self.joined = False
        self.model_version: str | None = None
        self.deployment: tuple[str, str] | None = None
        self.state = "pending"
        self._window: Window | None = None
        self._token: contextvars.Token[_Current | None] | None = None
        self._previous_handler: Any = None
        self._handler_installed = False
        self._names: dict[tuple[str | None, str], int] = {}

    def __enter__(self) -> Run:
        outer = _CURRENT.get()
        if outer is None and self.tracker.join_run_id is not None:
            return self._join()
        t = self.tracker
        self._window = t.meter.open()
        t.emit(
            run_record(
                self.id,
                "start",
                t.clock(),
                self.pipeline,
                run_kind=self.kind,
                trigger=self.trigger,
                scheduled_at=self.scheduled_at,
                params=self.params or None,
                parent_run_id=None if outer is None else outer[0].id,
                environment_hash=t.environment_hash(),
                host=t.host,
                pid=os.getpid(),
                source="sdk",
            )
        )
        self.state = "running"
        self._install_sigterm()
        self._token = _CURRENT.set((self, None))
        return self

    def _join(self) -> Run:
        t = self.tracker
        assert t.join_run_id is not None
        self.id = t.join_run_id
        self.joined = True
        self.state = "running"
        self._token = _CURRENT.set((self, t.join_parent_step_id))
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
        self._restore_sigterm()
        if self.joined:
            self.state = "joined"
            return
        event = _end_event(exc)
        usage = self._window.close() if self._window is not None else None
        self.state = {"complete": "succeeded", "fail": "failed", "abort": "aborted"}[event]
        t = self.tracker
        service, serving_version = self.deployment or (None, None)
        t.emit(
            run_record(
                self.id,
                event,
                t.clock(),
                self.pipeline,
                run_kind=self.kind,
                error=None if exc is None or event == "complete" else error_info(exc),
                resources=None if usage is None else usage.to_wire(),
                model_version=self.model_version,
                service=service,
                serving_version=serving_version,
                source="sdk",
            )
        )

    # -- SIGTERM -------------------------------------------------------------------------

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        try:
            self._previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
        except (ValueError, OSError):  # pragma: no cover - embedded interpreters
            return
        self._handler_installed = True

    def _restore_sigterm(self) -> None:
        if self._handler_installed:
            signal.signal(signal.SIGTERM, self._previous_handler)
            self._handler_installed = False

    # -- user API ------------------------------------------------------------------------

    def step(self, name: str) -> _Spec[Step]:
        """A step of this run (context manager yielding a :class:`Step`, or decorator)."""
        return _Spec(lambda: Step(self, name))

    def set_model_version(self, version: str) -> None:
        """The model version this (training) run produced or (deployment) run deployed."""
        self.model_version = str(version)

    def set_deployment(self, service: str, version: str) -> None:
        """Link this deployment run to the serving side: ``service`` now serves ``version``."""
        self.deployment = (str(service), str(version))

    def child_env(self) -> dict[str, str]:
        """Environment variables that make steps of a child process join this run."""
        current = _CURRENT.get()
        env = {"MLVITALS_RUN_ID": self.id}
        if current is not None and current[0] is self and current[1] is not None:
            env["MLVITALS_PARENT_STEP_ID"] = current[1]
        return env

    def input(self, data: Any, **kwargs: Any) -> DatasetRef:
        """Record a dataset the run as a whole read (see :meth:`Step.input`)."""
        return _record_dataset(self, "", "input", data, kwargs)

    def output(self, data: Any, **kwargs: Any) -> DatasetRef:
        """Record a dataset the run as a whole wrote (see :meth:`Step.output`)."""
        return _record_dataset(self, "", "output", data, kwargs)

    def unique_name(self, step_id: str, direction: str, name: str) -> str:
        key = (step_id + "/" + direction, name)
        n = self._names.get(key, 0) + 1
        self._names[key] = n
        return name if n == 1 else f"{name}#{n}"


class _JoinedRun(Run):
    """The run of another process, joined for module-level steps outside any run."""

    def __init__(self, tracker: RunTracker, run_id: str, parent_step_id: str | None) -> None:
        super().__init__(tracker, "joined", "other", None, None, {})
        self.id = run_id
        self.joined = True
        self.parent_step_id = parent_step_id


class Step:
    """A live step; made by :meth:`Run.step`. Steps nest: a step opened inside another
    becomes its child."""

    def __init__(self, run: Run, name: str) -> None:
        if not name or len(name) > 200:
            raise ValueError("a step name must be 1-200 characters")
        self.run = run
        self.name = name
        self.id = str(uuid.uuid4())
        self.parent_id: str | None = None
        self.state = "pending"
        self._window: Window | None = None
        self._token: contextvars.Token[_Current | None] | None = None

    def __enter__(self) -> Step:
        current = _CURRENT.get()
        if current is not None and current[0] is self.run:
            self.parent_id = current[1]
        elif isinstance(self.run, _JoinedRun):
            self.parent_id = self.run.parent_step_id
        t = self.run.tracker
        self._window = t.meter.open()
        t.emit(
            step_record(
                self.run.id,
                self.id,
                "start",
                t.clock(),
                self.name,
                parent_step_id=self.parent_id,
                host=t.host,
                pid=os.getpid(),
            )
        )
        self.state = "running"
        self._token = _CURRENT.set((self.run, self.id))
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
        event = _end_event(exc)
        usage = self._window.close() if self._window is not None else None
        self.state = {"complete": "succeeded", "fail": "failed", "abort": "aborted"}[event]
        t = self.run.tracker
        t.emit(
            step_record(
                self.run.id,
                self.id,
                event,
                t.clock(),
                self.name,
                parent_step_id=self.parent_id,
                error=None if exc is None or event == "complete" else error_info(exc),
                resources=None if usage is None else usage.to_wire(),
            )
        )

    def input(
        self, data: Any, *, name: str | None = None, rows: int | None = None, count: bool = True
    ) -> DatasetRef:
        """Record a dataset this step read: a path (file or folder), a glob, a DataFrame or
        Table, or a dataset name. Returns what was recorded.

        ``name`` labels it (default: the path or name given); ``count=False`` skips row
        counting; ``rows`` states the row count.
        """
        return _record_dataset(
            self.run, self.id, "input", data, {"name": name, "rows": rows, "count": count}
        )

    def output(
        self, data: Any, *, name: str | None = None, rows: int | None = None, count: bool = True
    ) -> DatasetRef:
        """Record a dataset this step wrote; the arguments are those of :meth:`input`."""
        return _record_dataset(
            self.run, self.id, "output", data, {"name": name, "rows": rows, "count": count}
        )


def _record_dataset(
    run: Run, step_id: str, direction: str, data: Any, options: dict[str, Any]
) -> DatasetRef:
    ref = describe(data, **{k: v for k, v in options.items() if v is not None})
    t = run.tracker
    wire = ref.to_wire()
    wire["name"] = run.unique_name(step_id, direction, ref.name)
    t.emit(dataset_record(run.id, step_id, direction, "other", t.clock(), wire))
    return ref


def current_run() -> Run | None:
    """The innermost run active in this thread or task, if any."""
    current = _CURRENT.get()
    return None if current is None else current[0]


def current_step_id() -> str | None:
    """The id of the innermost open step of the active run, if any."""
    current = _CURRENT.get()
    return None if current is None else current[1]
