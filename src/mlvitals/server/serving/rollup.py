"""Rollups of serving windows to 1-minute and 1-hour resolution, and retention.

A pass reads only what arrived since the last one. At ingest each batch of serving windows
marks the (service, minute) periods it touched (:func:`rollup_marks`, stored with the batch
in ``serving_rollup_marks``). A pass takes the marks of complete minutes, deleting them
before it reads any window, so a window committed during the pass marks its minute again
for the next one. It re-rolls just those (service, minute) rollups from raw windows, then
the complete hours they fall in from the minute rollups; hours that just completed are
rolled from the minute rollups too. So a window that arrives after its minute or hour was
rolled still counts, and a pass costs what arrived, not how much history there is.

A window is counted however late it arrives; ``final_until`` (``late_seconds`` after an
hour ended) only tells the fleet's ``/metrics`` export which hours it may cache. The first
pass on a database (or after the upgrade that added marks) rolls every stored window of the
last 400 days.
Queries read rollups of whole periods up to ``rolled_until`` and raw windows for partial
periods and after it (:func:`mlvitals.server.serving.queries.plan`), so they see every window
that arrived by the last pass; one arriving later is counted from the next pass on.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlvitals.server.serving.aggregate import WindowAggregate
from mlvitals.store import Store

RESOLUTIONS = (60, 3600)
MARKS = "serving_rollup_marks"
_CHUNK = 6 * 3600.0
BACKFILL = 400 * 86400.0
"""How far back the first pass reaches: older windows (beyond every default retention, or
stored with a wild time) are left out rather than walked to chunk by chunk."""
_FEW = 8  # marked services of one period read one by one; more read the period at once
_KEY = ("service", "version", "operation", "instance")
_COLUMNS = (
    "resolution, service, version, operation, instance, start, calls, errors, client_errors,"
    " failures, latency, cpu, cpu_seconds, peak_rss_bytes, gpu_busy_seconds,"
    " gpu_peak_memory_bytes, peak_in_flight"
)
_UPSERT = (
    f"INSERT INTO serving_rollups ({_COLUMNS}) VALUES ({', '.join('?' * 17)})"
    " ON CONFLICT (resolution, service, version, operation, instance, start) DO UPDATE SET"
    " calls = excluded.calls, errors = excluded.errors,"
    " client_errors = excluded.client_errors, failures = excluded.failures,"
    " latency = excluded.latency, cpu = excluded.cpu, cpu_seconds = excluded.cpu_seconds,"
    " peak_rss_bytes = excluded.peak_rss_bytes, gpu_busy_seconds = excluded.gpu_busy_seconds,"
    " gpu_peak_memory_bytes = excluded.gpu_peak_memory_bytes,"
    " peak_in_flight = excluded.peak_in_flight"
)


@dataclass(frozen=True, slots=True)
class RollupState:
    resolution: int
    final_until: float
    rolled_until: float


def rollup_state(store: Store) -> dict[int, RollupState]:
    rows = store.fetch("SELECT resolution, final_until, rolled_until FROM rollup_state")
    return {
        int(r["resolution"]): RollupState(
            int(r["resolution"]), float(r["final_until"]), float(r["rolled_until"])
        )
        for r in rows
    }


def rollup_marks(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The (service, minute) marks of one batch's serving window rows (``derived_rows``).

    >>> rollup_marks([{"service": "a", "start": 125.0}, {"service": "a", "start": 130.0}])
    {'serving_rollup_marks': [{'service': 'a', 'minute': 120.0}]}
    """
    periods = {(r["service"], float(math.floor(float(r["start"]) / 60) * 60)) for r in rows}
    return {MARKS: [{"service": s, "minute": m} for s, m in sorted(periods)]}


def _floor(t: float, res: int) -> float:
    return float(math.floor(t / res) * res)


def roll_up(store: Store, now: float, *, late_seconds: float = 7200.0) -> dict[int, int]:
    """One pass for every resolution; returns the number of rollup rows written per resolution."""
    states = rollup_state(store)
    minute_state, hour_state = states.get(60), states.get(3600)
    current = {res: _floor(now, res) for res in RESOLUTIONS}
    final = {
        res: max(
            states[res].final_until if res in states else -math.inf,
            _floor(now - late_seconds, res),
        )
        for res in RESOLUTIONS
    }
    marks = _take_marks(store, current[60])
    if minute_state is None or hour_state is None:
        first = store.fetch(
            "SELECT MIN(start) AS m FROM serving_windows WHERE start >= ?", (now - BACKFILL,)
        )[0]["m"]
        if first is None:
            return {}
        written = _roll_everything(store, _floor(float(first), 3600), current)
    else:
        # However late a window arrived, its minute and hour are rolled again (a final
        # hour too: only the fleet's /metrics counters, which cache final hours, miss it).
        kept = marks
        written = {60: _roll_minutes(store, kept)}
        hours = {(s, _floor(m, 3600)) for s, m in kept}
        done = hour_state.rolled_until
        late = {(s, h) for s, h in hours if h < min(done, current[3600])}
        written[3600] = _roll_hours(store, late, done, current[3600])
    for res in RESOLUTIONS:
        lowest = final[res] if math.isfinite(final[res]) else current[res]
        _save_state(store, res, min(lowest, current[res]), current[res], exists=res in states)
    return written


def _take_marks(store: Store, before: float) -> list[tuple[str, float]]:
    """Take (and delete) the marks of minutes before ``before``, before reading windows."""
    rows = store.fetch(f"SELECT service, minute FROM {MARKS} WHERE minute < ?", (before,))
    marks = [(str(r["service"]), float(r["minute"])) for r in rows]
    if marks:
        store.execute_many(f"DELETE FROM {MARKS} WHERE service = ? AND minute = ?", marks)
    return marks


def _roll_everything(store: Store, begin: float, current: Mapping[int, float]) -> dict[int, int]:
    n = 0
    lo = begin
    while lo < current[60]:
        hi = min(current[60], lo + _CHUNK)
        n += _roll_range(store, 60, lo, hi)
        lo = hi
    return {60: n, 3600: _roll_hours(store, set(), begin, current[3600])}


def _roll_minutes(store: Store, marks: Iterable[tuple[str, float]]) -> int:
    """Re-roll the marked (service, minute) rollups from raw windows."""
    by_minute: dict[float, set[str]] = defaultdict(set)
    for service, minute in marks:
        by_minute[minute].add(service)
    rows: list[Mapping[str, Any]] = []
    for minute, services in sorted(by_minute.items()):
        if len(services) <= _FEW:
            for service in sorted(services):
                rows += store.fetch(
                    "SELECT * FROM serving_windows WHERE service = ? AND start >= ? AND start < ?",
                    (service, minute, minute + 60),
                )
        else:
            period = store.fetch(
                "SELECT * FROM serving_windows WHERE start >= ? AND start < ?",
                (minute, minute + 60),
            )
            rows += [r for r in period if r["service"] in services]
    return _upsert(store, 60, rows)


def _roll_hours(store: Store, late: set[tuple[str, float]], lo: float, hi: float) -> int:
    """Roll hours ``lo`` to ``hi`` (just completed) and the ``late`` (service, hour) pairs
    from the minute rollups."""
    rows: list[Mapping[str, Any]] = []
    if lo < hi:
        rows += store.fetch(
            "SELECT * FROM serving_rollups WHERE resolution = 60 AND start >= ? AND start < ?",
            (lo, hi),
        )
    for service, hour in sorted(late):
        rows += store.fetch(
            "SELECT * FROM serving_rollups WHERE resolution = 60 AND service = ?"
            " AND start >= ? AND start < ?",
            (service, hour, hour + 3600),
        )
    return _upsert(store, 3600, rows)


def _upsert(store: Store, res: int, rows: Iterable[Mapping[str, Any]]) -> int:
    groups: dict[tuple[object, ...], WindowAggregate] = defaultdict(WindowAggregate)
    for row in rows:
        period = math.floor(float(row["start"]) / res) * res
        groups[(*(row[k] for k in _KEY), period)].add_row(row)
    if not groups:
        return 0
    params = [(res, *key, *agg.as_row().values()) for key, agg in groups.items()]
    store.execute_many(_UPSERT, params)
    return len(params)


def _roll_range(store: Store, res: int, lo: float, hi: float) -> int:
    rows = store.fetch(
        "SELECT * FROM serving_windows WHERE start >= ? AND start < ?",
        (lo, hi),
    )
    return _upsert(store, res, rows)


def _save_state(store: Store, res: int, final_until: float, rolled: float, *, exists: bool) -> None:
    if exists:
        store.execute(
            "UPDATE rollup_state SET final_until = ?, rolled_until = ? WHERE resolution = ?",
            (final_until, rolled, res),
        )
    else:
        store.execute(
            "INSERT INTO rollup_state (resolution, final_until, rolled_until) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (res, final_until, rolled),
        )


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each resolution is kept, in days."""

    raw_days: float = 8.0
    minute_days: float = 35.0
    hour_days: float = 400.0


def apply_retention(store: Store, now: float, retention: Retention) -> int:
    """Delete what is past its retention; returns rows deleted."""
    day = 86400.0
    deleted = store.execute(
        "DELETE FROM serving_windows WHERE start < ?", (now - retention.raw_days * day,)
    )
    deleted += store.execute(
        "DELETE FROM instance_samples WHERE time < ?", (now - retention.raw_days * day,)
    )
    deleted += store.execute(
        "DELETE FROM probe_results WHERE time < ?", (now - retention.minute_days * day,)
    )
    for res, days in ((60, retention.minute_days), (3600, retention.hour_days)):
        deleted += store.execute(
            "DELETE FROM serving_rollups WHERE resolution = ? AND start < ?",
            (res, now - days * day),
        )
    return deleted
