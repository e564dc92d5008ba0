"""Rollups of serving windows to 1-minute and 1-hour resolution, and retention.

A pass rolls every period from the last final one up to the current (incomplete) one and
upserts it. Periods older than ``late_seconds`` are final and never rolled again, so a window
that arrives more than ``late_seconds`` after its period is kept raw but missing from the
rollups (the documented tolerance). Queries read rollups of whole periods up to
``rolled_until`` and raw windows for partial periods and after it
(:func:`mlvitals.server.serving.queries.plan`); a window arriving for a period already rolled
is counted from the next pass on.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from mlvitals.server.serving.aggregate import WindowAggregate
from mlvitals.store import Store

RESOLUTIONS = (60, 3600)
_CHUNK = 6 * 3600.0
BACKFILL = 400 * 86400.0
"""How far back the first pass reaches: older windows (beyond every default retention, or
stored with a wild time) are left out rather than walked to chunk by chunk."""
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


def roll_up(store: Store, now: float, *, late_seconds: float = 7200.0) -> dict[int, int]:
    """One pass for every resolution; returns the number of rollup rows written per resolution."""
    states = rollup_state(store)
    written: dict[int, int] = {}
    for res in RESOLUTIONS:
        state = states.get(res)
        current = float(math.floor(now / res) * res)
        if state is None:
            first = store.fetch(
                "SELECT MIN(start) AS m FROM serving_windows WHERE start >= ?", (now - BACKFILL,)
            )[0]["m"]
            if first is None:
                continue
            begin = float(math.floor(float(first) / res) * res)
        else:
            begin = state.final_until
        final_until = max(begin, float(math.floor((now - late_seconds) / res) * res))
        n = 0
        lo: float = begin
        while lo < current:
            hi = min(current, lo + max(_CHUNK, res))
            n += _roll_range(store, res, lo, hi)
            lo = hi
        _save_state(store, res, final_until, current, exists=state is not None)
        written[res] = n
    return written


def _roll_range(store: Store, res: int, lo: float, hi: float) -> int:
    rows = store.fetch(
        "SELECT * FROM serving_windows WHERE start >= ? AND start < ?",
        (lo, hi),
    )
    groups: dict[tuple[object, ...], WindowAggregate] = defaultdict(WindowAggregate)
    for row in rows:
        period = math.floor(float(row["start"]) / res) * res
        groups[(*(row[k] for k in _KEY), period)].add_row(row)
    if not groups:
        return 0
    params = [(res, *key, *agg.as_row().values()) for key, agg in groups.items()]
    store.execute_many(_UPSERT, params)
    return len(params)


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
