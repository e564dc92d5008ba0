"""Usage from the store for cost: hourly rollups, and gathering usage for a period.

Usage is rolled up per hour into ``cost_serving_hours`` (calls, CPU-seconds and GPU-busy
seconds per operation and instance, from serving windows) and ``cost_instance_hours`` (up
time and the integrals of allocated cores, memory and RSS over it, from instance samples).
A pass re-rolls every hour from the last final one (older than ``late_seconds``) up to the
current hour; final hours are never rolled again, so a sample that arrives later than that
is not counted (the same tolerance as the serving rollups). Queries read rollups up to where
the last pass got and raw rows after it, so nothing that arrived is missed, and a query rolls
up first when the last pass is over a minute old.

Up time: consecutive samples of an instance at most ``max_gap`` apart mean it was up in
between, with the allocation of the later sample; a longer gap is downtime, never billed.

Finished runs come from ``run_events`` (folded: start and terminal events, resources of the
terminal event) and stored datasets from the outputs in ``dataset_refs``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlvitals.cost.config import CostConfig
from mlvitals.cost.result import CostResult
from mlvitals.cost.runs import run_lines
from mlvitals.cost.serving import InstanceUsage, OperationUsage
from mlvitals.cost.storage import dataset_versions, storage_lines
from mlvitals.cost.timegrid import DAY, HOUR, hour_ceil, hour_floor
from mlvitals.cost.usage import (
    dataset_write,
    gpu_names,
    instance_usage,
    operation_usage,
    run_usage,
)
from mlvitals.store import Store

_STATE = "usage"
ROLL_EVERY = 60.0

_SERVING_COLUMNS = ("calls", "cpu_seconds", "gpu_busy_seconds")
_INSTANCE_COLUMNS = (
    "up_seconds",
    "core_seconds",
    "cores_unknown_seconds",
    "memory_byte_seconds",
    "memory_unknown_seconds",
    "rss_byte_seconds",
)

_RAW_SERVING = """SELECT service, version, operation, instance,
    FLOOR(start / 3600) * 3600 AS hour, SUM(calls) AS calls, SUM(cpu_seconds) AS cpu_seconds,
    SUM(COALESCE(gpu_busy_seconds, 0)) AS gpu_busy_seconds
FROM serving_windows WHERE start >= ? AND start < ? {where}
GROUP BY service, version, operation, instance, FLOOR(start / 3600)"""

# Each sample closes the interval since the one before it (LAG), if that is short enough;
# intervals belong to the hour they start in, so hours tile time exactly.
_RAW_INSTANCES = """WITH s AS (
    SELECT service, version, instance, time, rss_bytes, gpus, cpu_cores_allocated AS cores,
        COALESCE(memory_allocated_bytes, host_memory_total_bytes) AS mem,
        LAG(time) OVER (PARTITION BY service, instance ORDER BY time) AS prev
    FROM instance_samples WHERE time >= ? AND time <= ? {where}
)
SELECT service, version, instance, FLOOR(prev / 3600) * 3600 AS hour,
    SUM(time - prev) AS up_seconds,
    SUM(COALESCE(cores, 0) * (time - prev)) AS core_seconds,
    SUM(CASE WHEN cores IS NULL THEN time - prev ELSE 0 END) AS cores_unknown_seconds,
    SUM(COALESCE(mem, 0) * (time - prev)) AS memory_byte_seconds,
    SUM(CASE WHEN mem IS NULL THEN time - prev ELSE 0 END) AS memory_unknown_seconds,
    SUM(COALESCE(rss_bytes, 0) * (time - prev)) AS rss_byte_seconds,
    MAX(gpus) AS gpus
FROM s WHERE prev IS NOT NULL AND prev >= ? AND prev < ? AND time - prev <= ?
GROUP BY service, version, instance, FLOOR(prev / 3600)"""

_ROLLED_SERVING = """SELECT service, version, operation, instance,
    MIN(hour) AS first_hour, MAX(hour) AS last_hour, SUM(calls) AS calls,
    SUM(cpu_seconds) AS cpu_seconds, SUM(gpu_busy_seconds) AS gpu_busy_seconds
FROM cost_serving_hours WHERE hour >= ? AND hour < ? {where}
GROUP BY service, version, operation, instance, FLOOR(hour / 86400)"""

_ROLLED_INSTANCES = """SELECT service, version, instance, gpus,
    MIN(hour) AS first_hour, MAX(hour) AS last_hour,
    {sums}
FROM cost_instance_hours WHERE hour >= ? AND hour < ? {where}
GROUP BY service, version, instance, gpus, FLOOR(hour / 86400)""".replace(
    "{sums}", ", ".join(f"SUM({c}) AS {c}" for c in _INSTANCE_COLUMNS)
)

BACKFILL = 400 * DAY
"""How far back the first rollup pass reaches."""


def _upsert(table: str, key: Sequence[str], values: Sequence[str]) -> str:
    cols = [*key, *values]
    sets = ", ".join(f"{c} = excluded.{c}" for c in values)
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
    )


_UPSERT_SERVING = _upsert(
    "cost_serving_hours",
    ("service", "version", "operation", "instance", "hour"),
    _SERVING_COLUMNS,
)
_UPSERT_INSTANCES = _upsert(
    "cost_instance_hours",
    ("service", "version", "instance", "hour"),
    (*_INSTANCE_COLUMNS, "gpus"),
)


# -- rollups ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RollupState:
    final_until: float
    rolled_until: float
    rolled_at: float


def rollup_state(store: Store) -> RollupState | None:
    rows = store.fetch(
        "SELECT final_until, rolled_until, rolled_at FROM cost_rollup_state WHERE name = ?",
        (_STATE,),
    )
    if not rows:
        return None
    r = rows[0]
    return RollupState(float(r["final_until"]), float(r["rolled_until"]), float(r["rolled_at"]))


def roll_up_cost(
    store: Store, now: float, *, late_seconds: float = 7200.0, max_gap: float = 30.0
) -> int:
    """One rollup pass (see the module docstring); returns the rollup rows written.

    Idempotent: concurrent passes (several server processes) write the same values.
    """
    state = rollup_state(store)
    current = hour_floor(now)
    if state is None:
        # Older rows (beyond every default retention, or stored with a wild time) are left
        # out rather than walked to day by day.
        since = now - BACKFILL
        first = store.fetch(
            "SELECT MIN(start) AS m FROM serving_windows WHERE start >= ?"
            " UNION ALL SELECT MIN(time) AS m FROM instance_samples WHERE time >= ?",
            (since, since),
        )
        starts = [float(r["m"]) for r in first if r["m"] is not None]
        if not starts:
            return 0
        begin = hour_floor(min(starts))
    else:
        begin = state.final_until
    final_until = max(begin, hour_floor(now - late_seconds))
    written = 0
    lo = begin
    while lo < current:
        hi = min(current, lo + DAY)
        written += _roll_range(store, lo, hi, max_gap)
        lo = hi
    # The state moves only after the rows are written: a reader never counts an hour twice.
    if state is None:
        store.execute(
            "INSERT INTO cost_rollup_state (name, final_until, rolled_until, rolled_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (_STATE, final_until, current, now),
        )
    else:
        store.execute(
            "UPDATE cost_rollup_state SET final_until = ?, rolled_until = ?, rolled_at = ?"
            " WHERE name = ? AND rolled_until <= ?",
            (final_until, current, now, _STATE, current),
        )
    return written


def _roll_range(store: Store, lo: float, hi: float, max_gap: float) -> int:
    serving = [
        (
            r["service"],
            r["version"],
            r["operation"],
            r["instance"],
            float(r["hour"]),
            *(r[c] or 0 for c in _SERVING_COLUMNS),
        )
        for r in store.fetch(_RAW_SERVING.format(where=""), (lo, hi))
    ]
    instances = [
        (
            r["service"],
            r["version"],
            r["instance"],
            float(r["hour"]),
            *(float(r[c] or 0) for c in _INSTANCE_COLUMNS),
            json.dumps(gpu_names(r["gpus"])),
        )
        for r in store.fetch(_RAW_INSTANCES.format(where=""), (lo, hi + max_gap, lo, hi, max_gap))
    ]
    if serving:
        store.execute_many(_UPSERT_SERVING, serving)
    if instances:
        store.execute_many(_UPSERT_INSTANCES, instances)
    return len(serving) + len(instances)


def ensure_rolled(
    store: Store, now: float, *, late_seconds: float = 7200.0, max_gap: float = 30.0
) -> None:
    """Roll up unless a pass ran in the last minute."""
    state = rollup_state(store)
    if state is None or now - state.rolled_at >= ROLL_EVERY:
        roll_up_cost(store, now, late_seconds=late_seconds, max_gap=max_gap)


# -- gathering usage -------------------------------------------------------------------------


def serving_usage(
    store: Store,
    start: float,
    end: float,
    *,
    cuts: Sequence[float] = (),
    service: str | None = None,
    max_gap: float = 30.0,
) -> tuple[list[InstanceUsage], list[OperationUsage]]:
    """Instance and operation usage in ``[start, end)``: from the rollups where they are
    complete, from raw windows and samples elsewhere."""
    state = rollup_state(store)
    rolled = state.rolled_until if state is not None else -math.inf
    lo, hi = hour_ceil(start), min(hour_floor(end), rolled)
    raw_ranges = [(start, end)]
    instances: list[InstanceUsage] = []
    operations: list[OperationUsage] = []
    if hi > lo:
        raw_ranges = [(start, lo), (hi, end)]
        # One query per rate period, so no rolled-up row crosses a rate change.
        edges = [lo, *(c for c in cuts if lo < c < hi), hi]
        for a, b in itertools.pairwise(edges):
            _read_rolled(store, a, b, service, instances, operations)
    for a, b in raw_ranges:
        if b > a:
            _read_raw(store, a, b, service, max_gap, instances, operations)
    return instances, operations


def _service_filter(service: str | None) -> tuple[str, tuple[Any, ...]]:
    return ("AND service = ?", (service,)) if service is not None else ("", ())


def _read_rolled(
    store: Store,
    lo: float,
    hi: float,
    service: str | None,
    instances: list[InstanceUsage],
    operations: list[OperationUsage],
) -> None:
    where, extra = _service_filter(service)
    for r in store.fetch(_ROLLED_SERVING.format(where=where), (lo, hi, *extra)):
        period = float(r["first_hour"]), float(r["last_hour"]) + HOUR
        operations.append(operation_usage(r, *period))
    for r in store.fetch(_ROLLED_INSTANCES.format(where=where), (lo, hi, *extra)):
        period = float(r["first_hour"]), float(r["last_hour"]) + HOUR
        instances.append(instance_usage(r, *period))


def _read_raw(
    store: Store,
    lo: float,
    hi: float,
    service: str | None,
    max_gap: float,
    instances: list[InstanceUsage],
    operations: list[OperationUsage],
) -> None:
    where, extra = _service_filter(service)
    for r in store.fetch(_RAW_SERVING.format(where=where), (lo, hi, *extra)):
        hour = float(r["hour"])
        operations.append(operation_usage(r, max(hour, lo), min(hour + HOUR, hi)))
    rows = store.fetch(
        _RAW_INSTANCES.format(where=where), (lo, hi + max_gap, *extra, lo, hi, max_gap)
    )
    for r in rows:
        hour = float(r["hour"])
        row = {**r, "gpus": json.dumps(gpu_names(r["gpus"]))}
        instances.append(instance_usage(row, max(hour, lo), min(hour + HOUR, hi)))


_RUNS = """SELECT run_id, MAX(pipeline) AS pipeline,
    MIN(CASE WHEN event = 'start' THEN time END) AS started,
    MAX(CASE WHEN event IN ('complete', 'fail', 'abort') THEN time END) AS ended,
    MAX(cpu_seconds) AS cpu_seconds, MAX(peak_rss_bytes) AS peak_rss_bytes,
    MAX(gpu_seconds) AS gpu_seconds, MAX(wall_seconds) AS wall_seconds
FROM run_events
WHERE run_id IN (SELECT run_id FROM run_events
                 WHERE event IN ('complete', 'fail', 'abort') AND time >= ?) {where}
GROUP BY run_id"""

_DATASET_WRITES = """SELECT d.namespace, d.name, d.run_id, MAX(d.time) AS time,
    MAX(d.bytes) AS bytes, MAX(r.pipeline) AS pipeline
FROM dataset_refs d LEFT JOIN run_events r ON r.run_id = d.run_id
WHERE d.direction = 'output' AND d.bytes IS NOT NULL AND d.time < ? {where}
GROUP BY d.namespace, d.name, d.run_id, d.step_id"""


def run_costs(
    store: Store, config: CostConfig, start: float, end: float, pipeline: str | None = None
) -> CostResult:
    """Cost of runs that ended at or after ``start``, over ``[start, end)``."""
    where, extra = ("AND pipeline = ?", (pipeline,)) if pipeline is not None else ("", ())
    runs = [
        u
        for r in store.fetch(_RUNS.format(where=where), (start, *extra))
        if (u := run_usage(r)) is not None
    ]
    return run_lines(runs, config, start=start, end=end)


def storage_costs(
    store: Store, config: CostConfig, start: float, end: float, pipeline: str | None = None
) -> CostResult:
    """Storage cost over ``[start, end)`` of every dataset version written before ``end``."""
    where, extra = ("AND r.pipeline = ?", (pipeline,)) if pipeline is not None else ("", ())
    writes = [
        dataset_write(r) for r in store.fetch(_DATASET_WRITES.format(where=where), (end, *extra))
    ]
    return storage_lines(dataset_versions(writes), config, start=start, end=end)
