"""What the Pipelines pages show, computed from folded runs (pure functions, no store).

The page handlers in :mod:`mlvitals.server.pipelines.pages` read the runs of a range
once; these functions turn them into the schedule adherence over that range, the rows of
the run tables, the flagged anomalies with their reasons, and the chart series.

>>> from mlvitals.pipelines.fold import RunState
>>> run = RunState("r1", "etl", "succeeded", 3600.0, 3660.0, 60.0, scheduled_at=3600.0)
>>> series, rows = timeline({"etl": [run]}, {}, now=7200.0)
>>> rows, [s["name"] for s in series]
(['etl'], ['succeeded', 'scheduled'])
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from mlvitals.pipelines.baselines import step_anomalies
from mlvitals.pipelines.config import PipelineConfig
from mlvitals.pipelines.fold import RunState, StepState, fold_run
from mlvitals.pipelines.schedule import Adherence, RunTiming, adherence, previous_nominal
from mlvitals.server.pipelines.format import anomaly_reason, clock, state_label
from mlvitals.server.web import units

STATES = ("succeeded", "failed", "aborted", "running")
STATE_COLORS = {
    "succeeded": "--ok",
    "failed": "--danger",
    "aborted": "--warn",
    "running": "--accent",
}
MAX_SLOTS = 1000
"""At most this many scheduled times of a range are judged (a per-minute cron over 30 days
has 43,200): the most recent ones."""

_GAP_SAMPLES = 12

MAX_STEP_SERIES = 6
"""Output charts draw one series per step, the first this many; the rest are summed."""


def run_path(run_id: str) -> str:
    """The page of one run.

    >>> run_path("a/b c")
    '/runs/a%2Fb%20c'
    """
    return "/runs/" + quote(run_id, safe="")


def pipeline_path(name: str, **params: str) -> str:
    """The page of one pipeline, with query parameters.

    >>> pipeline_path("nightly etl", range="24h")
    '/pipelines/nightly%20etl?range=24h'
    """
    path = "/pipelines/" + quote(name, safe="")
    return f"{path}?{urlencode(params)}" if params else path


def deployment_path(service: str, version: str | None) -> str:
    """The Services page of a deployed service, filtered to the deployed version."""
    path = "/services/" + quote(service, safe="")
    return f"{path}?{urlencode({'version': version})}" if version else path


def fold_runs(rows: Iterable[Mapping[str, Any]]) -> list[RunState]:
    """Fold ``run_events`` rows into runs, newest start first."""
    by_run: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_run[str(row["run_id"])].append(row)
    runs = [fold_run(run_id, events) for run_id, events in by_run.items()]
    return sorted(runs, key=lambda r: (r.started_at or 0.0, r.run_id), reverse=True)


def _timing(r: RunState) -> RunTiming:
    return RunTiming(r.run_id, r.scheduled_at, r.started_at, r.ended_at, r.state, r.trigger)


def range_adherence(
    config: PipelineConfig | None,
    runs: Sequence[RunState],
    *,
    start: float,
    now: float,
    since: float | None,
) -> Adherence | None:
    """The scheduled times of ``[start, now]`` (not before ``since``, when the pipeline was
    first seen or declared) and how each was kept; ``None`` without a schedule."""
    if config is None or config.schedule is None:
        return None
    first = start if since is None else max(start, since)
    slots = max(1, min(slots_needed(config.schedule, config.timezone, first, now), MAX_SLOTS))
    return adherence(config, [_timing(r) for r in runs], now, slots=slots, since=first)


def slots_needed(expr: str, tz: str, first: float, now: float) -> int:
    """At least the number of nominal times in ``[first, now]``, without walking them all.

    Walking a cron costs tens of microseconds a step, and ``adherence`` walks the slots it
    judges anyway; so the count is bounded from the smallest gap between the last dozen
    nominal times. Cron gaps repeat (hourly, daily, weekdays, twice a month, a daylight
    saving hour), so the smallest one is among them and the bound is never under; it may be
    a few slots over, and those before ``first`` are left out by ``since``.

    >>> slots_needed("0 * * * *", "UTC", 0.0, 86400.0)
    25
    """
    recent = previous_nominal(expr, tz, now, _GAP_SAMPLES)
    gaps = [b - a for a, b in itertools.pairwise(recent) if b > a]
    if not gaps or recent[0] < first:
        # Fewer nominal times in the range than samples: count them exactly.
        return len([t for t in recent if t >= first]) + 1
    return math.ceil((now - first) / min(gaps)) + 1


@dataclass(frozen=True, slots=True)
class Flag:
    """Reasons to look at a run or a scheduled time: ``late start``, ``late``, ``missed``,
    ``overdue`` or ``anomaly`` (step metrics outside their bands, one reason per metric)."""

    time: float
    kind: str
    reasons: tuple[str, ...]
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "kind": self.kind,
            "reasons": list(self.reasons),
            "run_id": self.run_id,
            "url": None if self.run_id is None else run_path(self.run_id),
        }


def schedule_flags(adh: Adherence | None, grace_seconds: float) -> list[Flag]:
    """Late starts, late slots without a run yet, and missed slots."""
    if adh is None:
        return []
    grace = units.duration(grace_seconds)
    flags = []
    for slot in adh.slots:
        due = clock(slot.nominal)
        if slot.status == "missed":
            flags.append(Flag(slot.nominal, "missed", (f"no run for {due}; the next was due",)))
        elif slot.status == "late" and slot.run_id is not None:
            delay = units.duration(slot.delay_seconds)
            reason = f"started {delay} after {due} (grace {grace})"
            flags.append(Flag(slot.nominal, "late start", (reason,), slot.run_id))
        elif slot.status == "late":
            delay = units.duration(slot.delay_seconds)
            reason = f"no run started {delay} after {due} (grace {grace})"
            flags.append(Flag(slot.nominal, "late", (reason,)))
    return flags


def step_flags(
    runs: Sequence[RunState],
    steps: Mapping[str, Sequence[StepState]],
    history: Sequence[RunState],
    *,
    keep: int,
) -> list[Flag]:
    """Step metrics of each run outside the bands of the ``keep`` good runs before it.

    ``runs`` and ``history`` (good runs before the range) may overlap; each run is compared
    only with good runs that ended before it started, as it would have been when it ran.
    """
    pool = {r.run_id: r for r in [*history, *runs] if r.state == "succeeded"}
    good = sorted(pool.values(), key=lambda r: r.ended_at or 0.0)
    metrics = {rid: {s.name: s.metrics() for s in run_steps} for rid, run_steps in steps.items()}
    flags = []
    for run in runs:
        if run.run_id not in metrics or run.started_at is None:
            continue
        started = run.started_at
        before = [g for g in good if (g.ended_at or 0.0) <= started and g.run_id != run.run_id]
        past = [metrics[g.run_id] for g in before[-keep:] if g.run_id in metrics]
        found = step_anomalies(metrics[run.run_id], past)
        if found:
            reasons = tuple(anomaly_reason(a.to_dict()) for a in found)
            flags.append(Flag(started, "anomaly", reasons, run.run_id))
    return flags


def run_row(run: RunState, now: float, grace_seconds: float | None) -> dict[str, Any]:
    """One row of a run table."""
    delay = run.start_delay_seconds
    duration = run.duration_seconds
    if duration is None and run.state == "running" and run.started_at is not None:
        duration = now - run.started_at
    return {
        "run_id": run.run_id,
        "url": run_path(run.run_id),
        "state": run.state,
        "kind": run.run_kind or "",
        "trigger": run.trigger or "",
        "scheduled_at": run.scheduled_at,
        "started_at": run.started_at,
        "delay": delay,
        "late": delay is not None and grace_seconds is not None and delay > grace_seconds,
        "duration": duration,
        "cpu_seconds": run.resources.get("cpu_seconds"),
        "peak_rss_bytes": run.resources.get("peak_rss_bytes"),
        "model_version": run.model_version,
        "service": run.service,
        "serving_version": run.serving_version,
        "deployment_url": None
        if run.service is None
        else deployment_path(run.service, run.serving_version),
    }


def _end(run: RunState, now: float) -> float | None:
    if run.started_at is None:
        return None
    if run.ended_at is not None:
        return run.ended_at
    return now if run.state == "running" else run.started_at


def _hover(run: RunState, now: float, label: str) -> str:
    end = _end(run, now)
    took = units.duration(None if end is None or run.started_at is None else end - run.started_at)
    text = f"{label}: {state_label(run.state)}, {took}"
    if run.start_delay_seconds is not None and run.start_delay_seconds > 0:
        text += f", {units.duration(run.start_delay_seconds)} after its scheduled time"
    return text


def timeline(
    runs: Mapping[str, Sequence[RunState]],
    slots: Mapping[str, Adherence | None],
    *,
    now: float,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Series of the runs timeline (see ``static/charts.js``): one row per pipeline, a bar
    per run from its start to its end coloured by state, a tick at each scheduled time, a
    cross at each missed one. Returns the series and the rows in display order."""
    rows = sorted(set(runs) | {name for name, adh in slots.items() if adh and adh.slots})
    bars: dict[str, dict[str, list[Any]]] = {
        s: {"x": [], "y": [], "end": [], "text": [], "link": []} for s in STATES
    }
    scheduled: dict[str, list[Any]] = {"x": [], "y": [], "text": []}
    missed: dict[str, list[Any]] = {"x": [], "y": [], "text": []}
    for name in rows:
        for run in runs.get(name, ()):
            end = _end(run, now)
            if run.started_at is None or end is None:
                continue
            series = bars[run.state if run.state in bars else "running"]
            series["x"].append(run.started_at)
            series["y"].append(name)
            series["end"].append(end)
            series["text"].append(_hover(run, now, name))
            series["link"].append(run_path(run.run_id))
            if run.scheduled_at is not None:
                scheduled["x"].append(run.scheduled_at)
                scheduled["y"].append(name)
                scheduled["text"].append(f"{name}: scheduled")
        adh = slots.get(name)
        for slot in adh.slots if adh else ():
            if slot.status == "missed" or (slot.status == "late" and slot.run_id is None):
                missed["x"].append(slot.nominal)
                missed["y"].append(name)
                missed["text"].append(f"{name}: {slot.status}, no run")
    out: list[dict[str, Any]] = [
        {"name": state, "color": STATE_COLORS[state], **bars[state]}
        for state in STATES
        if bars[state]["x"]
    ]
    if scheduled["x"]:
        out.append({"name": "scheduled", "color": "--muted", "symbol": "line-ns-open", **scheduled})
    if missed["x"]:
        out.append({"name": "missed", "color": "--danger", "symbol": "x-thin-open", **missed})
    return out, rows


def timeline_height(rows: int) -> int:
    """Pixels for a timeline of ``rows`` rows: room for the bars, the axis and the legend."""
    return 110 + 38 * max(rows, 1)


def _time_unit(seconds: Iterable[float]) -> tuple[float, str]:
    longest = max(seconds, default=0.0)
    if longest >= 2 * 3600:
        return 3600.0, "h"
    if longest >= 120:
        return 60.0, "min"
    return 1.0, "s"


def duration_series(runs: Sequence[RunState], now: float) -> tuple[list[dict[str, Any]], str]:
    """Duration of each run at its start, one bar series per state, in a readable unit."""
    points = [
        (r, end - r.started_at)
        for r in sorted(runs, key=lambda r: r.started_at or 0.0)
        if r.started_at is not None and (end := _end(r, now)) is not None
    ]
    factor, unit = _time_unit(d for _, d in points)
    out = []
    for state in STATES:
        chosen = [(r, d) for r, d in points if r.state == state]
        if chosen:
            out.append(
                {
                    "name": state,
                    "color": STATE_COLORS[state],
                    "x": [r.started_at for r, _ in chosen],
                    "y": [d / factor for _, d in chosen],
                }
            )
    return out, unit


def output_series(
    runs: Sequence[RunState], steps: Mapping[str, Sequence[StepState]], metric: str
) -> list[dict[str, Any]]:
    """``output_rows`` or ``output_bytes`` of each run, one series per step that writes, at
    each run's start; a run that did not write in a step is a gap."""
    ordered = [r for r in sorted(runs, key=lambda r: r.started_at or 0.0) if r.started_at]
    per_step: dict[str, dict[str, float]] = {}
    for run in ordered:
        for s in steps.get(run.run_id, ()):
            value = s.metrics().get(metric)
            if value is not None:
                by_run = per_step.setdefault(s.name, {})
                by_run[run.run_id] = by_run.get(run.run_id, 0.0) + value
    names = list(per_step)
    shown, rest = names[:MAX_STEP_SERIES], names[MAX_STEP_SERIES:]
    x = [r.started_at for r in ordered]
    out = [
        {"name": name, "x": x, "y": [per_step[name].get(r.run_id) for r in ordered]}
        for name in shown
    ]
    if rest:
        y: list[float | None] = []
        for r in ordered:
            values = [per_step[n][r.run_id] for n in rest if r.run_id in per_step[n]]
            y.append(sum(values) if values else None)
        out.append({"name": f"other ({len(rest)} steps)", "x": x, "y": y})
    return out


def bytes_unit(series: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """``series`` of bytes scaled to the binary unit of their largest value.

    >>> bytes_unit([{"name": "a", "x": [1], "y": [3 * 1024**2]}])
    ([{'name': 'a', 'x': [1], 'y': [3.0]}], 'MiB')
    """
    largest = max((v for s in series for v in s["y"] if v is not None), default=0.0)
    factor, unit = 1.0, "B"
    for name in ("KiB", "MiB", "GiB", "TiB"):
        if largest < factor * 1024:
            break
        factor, unit = factor * 1024, name
    scaled = [{**s, "y": [None if v is None else v / factor for v in s["y"]]} for s in series]
    return scaled, unit
