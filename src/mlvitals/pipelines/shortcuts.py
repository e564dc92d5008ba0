"""Module-level entry points for scripts: ``run()``, ``step()``, ``declare()``.

Each ``run()`` builds a :class:`~mlvitals.pipelines.tracker.RunTracker` whose records go
straight to a server through :class:`~mlvitals.pipelines.sinks.HttpSink`.

::

    from mlvitals.pipelines import run

    with run("nightly-etl", server="http://127.0.0.1:8765", trigger="schedule") as r:
        with r.step("extract") as s:
            s.output("data/raw/")
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from mlvitals.pipelines.config import PipelineConfig
from mlvitals.pipelines.lifecycle import _Spec
from mlvitals.pipelines.sinks import DEFAULT_SERVER, HttpSink
from mlvitals.pipelines.tracker import (
    Emit,
    Run,
    RunTracker,
    Step,
    _step_in_context,
    _Untracked,
    current_run,
)


def run(
    pipeline: str,
    *,
    kind: str = "data",
    scheduled_at: float | datetime | None = None,
    trigger: str | None = None,
    params: dict[str, Any] | None = None,
    server: str = DEFAULT_SERVER,
    token: str | None = None,
    emit: Emit | None = None,
) -> _Spec[Run]:
    """A tracked run of ``pipeline`` (context manager yielding the run, or decorator).

    ``kind`` is ``data``, ``training``, ``deployment`` or ``other``; ``trigger`` is
    ``schedule``, ``manual``, ``drift_alert``, ``upstream`` or your own word;
    ``scheduled_at`` when the run was due (its nominal time, or when its trigger fired).
    Records go to ``server`` (or to ``emit``).

    >>> records = []
    >>> @run("retrain-fraud", kind="training", trigger="drift_alert", emit=records.append)
    ... def retrain():
    ...     current_run().set_model_version("1.4.0")
    >>> retrain()
    >>> records[-1]["event"], records[-1]["model_version"]
    ('complete', '1.4.0')
    """
    tracker = RunTracker(emit or HttpSink(server, token=token))
    return tracker.run(
        pipeline, kind=kind, scheduled_at=scheduled_at, trigger=trigger, params=params
    )


def step(
    name: str, *, server: str = DEFAULT_SERVER, token: str | None = None
) -> _Spec[Step | _Untracked]:
    """A step of the current run (context manager yielding the step, or decorator).

    Outside any run the step is not recorded, unless this process joins a run through
    ``MLVITALS_RUN_ID``; then ``server`` and ``token`` say where its records go.
    """

    def make() -> Step | _Untracked:
        current = current_run()
        if current is not None:
            return Step(current, name)
        # Only a joining process gets here with something to record: build its sink now.
        return _step_in_context(RunTracker(HttpSink(server, token=token), environment=False), name)

    return _Spec(make)


def declare(
    config: PipelineConfig,
    *,
    server: str = DEFAULT_SERVER,
    token: str | None = None,
    emit: Emit | None = None,
) -> None:
    """Send a pipeline's schedule, grace period and maximum duration to the server."""
    (emit or HttpSink(server, token=token))(config.to_wire(time.time()))
