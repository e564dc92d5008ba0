"""Pipeline series on the server's ``/metrics``: per pipeline, never per run.

Each pipeline's health and its last run (state, duration, start delay, end time, and the
rows and bytes of the datasets it wrote), read at scrape time with the same queries as
``GET /api/v1/pipelines``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mlvitals.server.pipelines.format import HEALTH_LABELS
from mlvitals.server.pipelines.queries import list_pipelines, steps_of_runs
from mlvitals.settings import Settings
from mlvitals.store import Store

RUN_STATES = ("running", "succeeded", "failed", "aborted")


class PipelineCollector(Collector):
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        pipelines = list_pipelines(self._store, self._clock())
        last = {p["pipeline"]: p["last_run"] for p in pipelines if p["last_run"] is not None}
        outputs = last_outputs(self._store, [run["run_id"] for run in last.values()])
        health = _gauge("health", "1 for the pipeline's health, 0 for the others.", "health")
        state = _gauge(
            "last_run_state", "1 for the state of the last run, 0 for the others.", "state"
        )
        duration = _gauge("last_run_duration_seconds", "Wall time of the last finished run.")
        delay = _gauge(
            "last_run_start_delay_seconds",
            "How long after its scheduled time the last run started (scheduled runs only).",
        )
        ended = _gauge("last_run_end_timestamp_seconds", "When the last finished run ended.")
        rows = _gauge("last_run_output_rows", "Rows of the datasets the last run wrote.")
        size = _gauge("last_run_output_bytes", "Bytes of the datasets the last run wrote.")
        for p in pipelines:
            name = p["pipeline"]
            for value in HEALTH_LABELS:
                health.add_metric([name, value], float(p["health"] == value))
            run = last.get(name)
            if run is None:
                continue
            for value in RUN_STATES:
                state.add_metric([name, value], float(run["state"] == value))
            _add(duration, name, run["duration_seconds"] if run["ended_at"] else None)
            _add(delay, name, run["start_delay_seconds"])
            _add(ended, name, run["ended_at"])
            written = outputs.get(run["run_id"], {})
            _add(rows, name, written.get("rows"))
            _add(size, name, written.get("bytes"))
        yield from (health, state, duration, delay, ended, rows, size)


def last_outputs(store: Store, run_ids: list[str]) -> dict[str, dict[str, float]]:
    """Per run: the rows and bytes of the datasets it wrote (each dataset once, the sum over
    those that state the number); a run that stated neither is left out."""
    out: dict[str, dict[str, float]] = {}
    for run_id, (steps, run_level) in steps_of_runs(store, run_ids).items():
        written: dict[tuple[str, str], dict[str, Any]] = {}
        refs = [*run_level, *(d for s in steps for d in s.outputs)]
        for ref in refs:
            if ref["direction"] == "output":
                written[(ref["namespace"], ref["name"])] = ref
        totals: dict[str, float] = {}
        for key in ("rows", "bytes"):
            values = [r[key] for r in written.values() if r.get(key) is not None]
            if values:
                totals[key] = float(sum(values))
        if totals:
            out[run_id] = totals
    return out


def _gauge(name: str, help_text: str, *extra: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"mlvitals_pipeline_{name}", help_text, labels=["pipeline", *extra])


def _add(family: GaugeMetricFamily, pipeline: str, value: float | None) -> None:
    if value is not None:
        family.add_metric([pipeline], float(value))


def export(store: Store, settings: Settings, clock: Callable[[], float]) -> Collector:
    return PipelineCollector(store, clock)
