"""Folding stored run and step events into their current state.

Events are applied in time order; for each field the latest event that carries a value
wins. The state comes from the latest *terminal* event (``complete``, ``fail``,
``abort``) whatever arrived when, so a ``COMPLETE`` that arrived before a late ``START``
still ends the run ``succeeded``; without a terminal event the run is ``running``. The
start is the earliest ``start`` event (else the earliest event of any kind).

>>> events = [
...     {"event": "complete", "time": 20.0, "pipeline": "etl"},
...     {"event": "start", "time": 10.0, "pipeline": "etl", "trigger": "schedule"},
... ]
>>> state = fold_run("r1", events)
>>> (state.state, state.started_at, state.ended_at, state.trigger, state.duration_seconds)
('succeeded', 10.0, 20.0, 'schedule', 10.0)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mlvitals.pipelines.wire import STATE_OF_EVENT, TERMINAL_EVENTS

# Among terminal events at the same instant, the worse outcome wins.
_TIE = {"complete": 0, "abort": 1, "fail": 2}
_ORDER = {"start": 0, "seen": 1, "running": 2, "other": 3, "complete": 4, "abort": 5, "fail": 6}
_RESOURCES = ("cpu_seconds", "peak_rss_bytes", "gpu_seconds", "wall_seconds")


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True, slots=True)
class Folded:
    """What runs and steps share: timing, state, error and resources."""

    state: str
    started_at: float | None
    ended_at: float | None
    error: dict[str, Any] | None
    resources: dict[str, Any]
    fields: dict[str, Any]

    @property
    def duration_seconds(self) -> float | None:
        wall = self.resources.get("wall_seconds")
        if wall is not None:
            return float(wall)
        if self.started_at is None or self.ended_at is None:
            return None
        return max(self.ended_at - self.started_at, 0.0)


def fold_events(events: Iterable[Mapping[str, Any]]) -> Folded:
    ordered = sorted(events, key=lambda e: (float(e["time"]), _ORDER.get(e["event"], 3)))
    merged: dict[str, Any] = {}
    for e in ordered:
        for key, value in e.items():
            if value is not None:
                merged[key] = value
    starts = [float(e["time"]) for e in ordered if e["event"] == "start"]
    started = min(starts) if starts else (float(ordered[0]["time"]) if ordered else None)
    terminal = [e for e in ordered if e["event"] in TERMINAL_EVENTS]
    error = None
    if terminal:
        last = max(terminal, key=lambda e: (float(e["time"]), _TIE[e["event"]]))
        state = STATE_OF_EVENT[last["event"]] or "running"
        ended: float | None = float(last["time"])
        if last["event"] != "complete" and last.get("error_type") is not None:
            error = {
                "type": last["error_type"],
                "message": last.get("error_message") or "",
                "traceback": last.get("traceback") or "",
            }
        resources = {k: last.get(k) for k in _RESOURCES}
    else:
        state, ended = "running", None
        resources = {k: None for k in _RESOURCES}
    return Folded(state, started, ended, error, resources, merged)


@dataclass(frozen=True, slots=True)
class RunState:
    run_id: str
    pipeline: str
    state: str
    started_at: float | None
    ended_at: float | None
    duration_seconds: float | None
    run_kind: str | None = None
    namespace: str = ""
    trigger: str | None = None
    scheduled_at: float | None = None
    parent_run_id: str | None = None
    params: dict[str, Any] | None = None
    environment_hash: str | None = None
    error: dict[str, Any] | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    model_version: str | None = None
    service: str | None = None
    serving_version: str | None = None
    host: str | None = None
    source: str | None = None
    facets: dict[str, Any] | None = None

    @property
    def start_delay_seconds(self) -> float | None:
        """How long after the scheduled time the run started."""
        if self.scheduled_at is None or self.started_at is None:
            return None
        return self.started_at - self.scheduled_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"start_delay_seconds": self.start_delay_seconds}


def fold_run(run_id: str, events: Sequence[Mapping[str, Any]]) -> RunState:
    f = fold_events(events)
    m = f.fields
    return RunState(
        run_id=run_id,
        pipeline=m.get("pipeline", ""),
        state=f.state,
        started_at=f.started_at,
        ended_at=f.ended_at,
        duration_seconds=f.duration_seconds,
        run_kind=m.get("run_kind"),
        namespace=m.get("namespace", ""),
        trigger=m.get("trigger"),
        scheduled_at=m.get("scheduled_at"),
        parent_run_id=m.get("parent_run_id"),
        params=_loads(m.get("params")),
        environment_hash=m.get("environment_hash"),
        error=f.error,
        resources=f.resources,
        model_version=m.get("model_version"),
        service=m.get("service"),
        serving_version=m.get("serving_version"),
        host=m.get("host"),
        source=m.get("source"),
        facets=_loads(m.get("facets")),
    )


@dataclass(frozen=True, slots=True)
class StepState:
    step_id: str
    name: str
    state: str
    started_at: float | None
    ended_at: float | None
    duration_seconds: float | None
    parent_step_id: str | None = None
    error: dict[str, Any] | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    host: str | None = None
    pid: int | None = None
    facets: dict[str, Any] | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def metrics(self) -> dict[str, float | None]:
        """The numbers baselines learn: duration, and files/bytes/rows in and out."""
        out: dict[str, float | None] = {"duration_seconds": self.duration_seconds}
        for direction, refs in (("input", self.inputs), ("output", self.outputs)):
            for metric, column in (("files", "file_count"), ("bytes", "bytes"), ("rows", "rows")):
                values = [r[column] for r in refs if r.get(column) is not None]
                out[f"{direction}_{metric}"] = float(sum(values)) if values else None
        return out


def fold_step(step_id: str, events: Sequence[Mapping[str, Any]]) -> StepState:
    f = fold_events(events)
    m = f.fields
    return StepState(
        step_id=step_id,
        name=m.get("name", ""),
        state=f.state,
        started_at=f.started_at,
        ended_at=f.ended_at,
        duration_seconds=f.duration_seconds,
        parent_step_id=m.get("parent_step_id"),
        error=f.error,
        resources=f.resources,
        host=m.get("host"),
        pid=m.get("pid"),
        facets=_loads(m.get("facets")),
    )


_JSON_COLUMNS = ("file_types", "files", "quality", "facets")


def fold_datasets(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One reference per (step, direction, namespace, name): later non-null fields win."""
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: float(r["time"])):
        key = (r["step_id"], r["direction"], r["namespace"], r["name"])
        target = merged.setdefault(key, {})
        for column, value in r.items():
            if value is None or column == "batch_id":
                continue
            if column == "schema_json":
                target["schema"] = _loads(value)
            elif column in _JSON_COLUMNS:
                target[column] = _loads(value)
            elif column == "files_truncated":
                target[column] = bool(value)
            else:
                target[column] = value
    return list(merged.values())
