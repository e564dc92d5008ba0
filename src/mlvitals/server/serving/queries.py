"""Time series and health of model services, from raw windows and rollups.

A query covers exactly the windows that start in ``[start, end)``: it reads 1-hour and 1-minute
rollups for the periods wholly inside the range (and inside one step) up to where the last
rollup pass got, and raw windows for the partial periods at both ends and after the last pass
(:func:`plan`); then it merges rows per step and group.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from mlvitals.errors import BadRequest
from mlvitals.server.serving.aggregate import WindowAggregate
from mlvitals.server.serving.rollup import rollup_state
from mlvitals.sketches.dense import DenseSketch
from mlvitals.store import Store

GROUPS = ("version", "operation", "instance")
MAX_POINTS = 5000


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    service: str
    start: float
    end: float
    step: float
    version: str | None = None
    operation: str | None = None
    instance: str | None = None
    group_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise BadRequest("'end' must be after 'start'")
        if not self.step > 0:
            raise BadRequest("'step' must be positive")
        if (self.end - self.start) / self.step > MAX_POINTS:
            raise BadRequest(f"too many points: use a step of at least {self.span / MAX_POINTS:g}s")
        bad = [g for g in self.group_by if g not in GROUPS]
        if bad:
            raise BadRequest(f"cannot group by {', '.join(bad)}: choose from {', '.join(GROUPS)}")

    @property
    def span(self) -> float:
        return self.end - self.start


def _filters(q: SeriesQuery) -> tuple[str, list[Any]]:
    clauses, params = ["service = ?"], [q.service]
    for name in ("version", "operation", "instance"):
        value = getattr(q, name)
        if value is not None:
            clauses.append(f"{name} = ?")
            params.append(value)
    return " AND ".join(clauses), params


@dataclass(frozen=True, slots=True)
class Part:
    """A part ``[start, end)`` of a query's range and where it is read: raw windows
    (``resolution`` 0) or the rollups of that resolution."""

    resolution: int
    start: float
    end: float


def _steps_fall_on(q: SeriesQuery, res: int) -> bool:
    """Whether every step boundary inside the range is a period boundary of ``res``, so that
    no rollup period straddles two steps (a range of one step has no inner boundary)."""
    if q.span <= q.step:
        return True
    whole = q.step >= res and math.isclose(q.step / res, round(q.step / res))
    return whole and q.start % res == 0


def plan(q: SeriesQuery, rolled_until: Mapping[int, float], *, by_step: bool = True) -> list[Part]:
    """Split the range into parts that together cover exactly ``[q.start, q.end)``.

    A rollup period is read only when it lies wholly inside the range and before where the
    last rollup pass got (``rolled_until`` per resolution), and, ``by_step``, inside one step;
    the coarsest rollups take the middle, finer ones the edges, and raw windows the partial
    periods at both ends and everything after the last pass.

    >>> q = SeriesQuery("svc", 7230.0, 14430.0, 7200.0)
    >>> for part in plan(q, {60: 14400.0, 3600: 14400.0}):
    ...     print(part)
    Part(resolution=0, start=7230.0, end=7260.0)
    Part(resolution=60, start=7260.0, end=10800.0)
    Part(resolution=3600, start=10800.0, end=14400.0)
    Part(resolution=0, start=14400.0, end=14430.0)
    """
    parts = [Part(0, q.start, q.end)]
    for res in sorted(rolled_until, reverse=True):
        if by_step and not _steps_fall_on(q, res):
            continue
        split: list[Part] = []
        for part in parts:
            lo = float(math.ceil(part.start / res) * res)
            hi = float(math.floor(min(part.end, rolled_until[res]) / res) * res)
            if part.resolution or hi <= lo:
                split.append(part)
                continue
            if part.start < lo:
                split.append(Part(0, part.start, lo))
            split.append(Part(res, lo, hi))
            if hi < part.end:
                split.append(Part(0, hi, part.end))
        parts = split
    return parts


def fetch_rows(store: Store, q: SeriesQuery, *, by_step: bool = True) -> list[dict[str, Any]]:
    """Window-shaped rows of the windows starting in ``[start, end)``, from rollups where they
    answer exactly (see :func:`plan`) and raw windows elsewhere; ``by_step=False`` when the
    rows are only totalled, so rollup periods may straddle steps."""
    where, params = _filters(q)
    return _rows(store, where, params, q, by_step=by_step)


def _rows(
    store: Store,
    where: str,
    params: Sequence[Any],
    q: SeriesQuery,
    *,
    by_step: bool = True,
    columns: str = "*",
) -> list[dict[str, Any]]:
    """``columns`` of the rows :func:`plan` reads for ``q``'s range, under ``where``."""
    rolled = {res: state.rolled_until for res, state in rollup_state(store).items()}
    rows: list[dict[str, Any]] = []
    for part in plan(q, rolled, by_step=by_step):
        if part.resolution:
            rows += store.fetch(
                f"SELECT {columns} FROM serving_rollups WHERE resolution = ? AND {where}"
                " AND start >= ? AND start < ?",
                (part.resolution, *params, part.start, part.end),
            )
        else:
            rows += store.fetch(
                f"SELECT {columns} FROM serving_windows WHERE {where} AND start >= ? AND start < ?",
                (*params, part.start, part.end),
            )
    return rows


def _in(services: Sequence[str] | None) -> tuple[str, list[Any]]:
    """A filter on ``services`` (every service when ``None``)."""
    if services is None:
        return "1 = 1", []
    return f"service IN ({', '.join('?' * len(services))})", list(services)


def serving_series(store: Store, q: SeriesQuery) -> list[dict[str, Any]]:
    """One series per group, each with a point per step that has data.

    >>> from mlvitals.server.database import open_database
    >>> store = open_database(":memory:")
    >>> serving_series(store, SeriesQuery("svc", 0, 600, 60))
    []
    """
    buckets: dict[tuple[Any, ...], dict[float, WindowAggregate]] = defaultdict(dict)
    for row in fetch_rows(store, q):
        group = tuple(row[g] for g in q.group_by)
        t = q.start + math.floor((float(row["start"]) - q.start) / q.step) * q.step
        agg = buckets[group].get(t)
        if agg is None:
            agg = buckets[group][t] = WindowAggregate()
        agg.add_row(row)
    out = []
    for group, points in sorted(buckets.items()):
        out.append(
            {
                "labels": dict(zip(q.group_by, group, strict=True)),
                "points": [{"time": t, **agg.summary(q.step)} for t, agg in sorted(points.items())],
            }
        )
    return out


def serving_total(store: Store, q: SeriesQuery) -> dict[str, Any]:
    """The whole range as one aggregate (e.g. p99 over the last hour across replicas)."""
    agg = WindowAggregate()
    for row in fetch_rows(store, q, by_step=False):
        agg.add_row(row)
    return agg.summary(q.span)


def _last_seen(store: Store, services: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Each (service, instance) of ``services`` (default: all) with its latest version, when it
    last reported (``seen``) and whether its latest report is the sample of a clean shutdown
    (``stopped``)."""
    condition, params = _in(services)
    where = f"WHERE {condition}"
    windows = store.fetch(
        "SELECT service, instance, MAX(version) AS version, MAX(start + length) AS seen,"
        " NULL AS stopped_at"
        f" FROM serving_windows {where} GROUP BY service, instance",
        params,
    )
    samples = store.fetch(
        "SELECT service, instance, MAX(version) AS version, MAX(time) AS seen,"
        " MAX(CASE WHEN stopped = 1 THEN time END) AS stopped_at"
        f" FROM instance_samples {where} GROUP BY service, instance",
        params,
    )
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    stopped_at: dict[tuple[str, str], float] = {}
    for row in windows + samples:
        key = (row["service"], row["instance"])
        if row["stopped_at"] is not None:
            stopped_at[key] = float(row["stopped_at"])
        if key not in merged or float(row["seen"]) > merged[key]["seen"]:
            merged[key] = {**row, "seen": float(row["seen"])}
    for key, row in merged.items():
        # The stop sample comes after the last window it closed; a process that comes back
        # under the same name reports after its stop.
        del row["stopped_at"]
        row["stopped"] = key in stopped_at and stopped_at[key] >= row["seen"]
    return list(merged.values())


def instances(store: Store, service: str, now: float, *, down_after: float) -> list[dict[str, Any]]:
    """Each instance of a service with its last report, whether it stopped cleanly, and
    whether it is up (a stopped instance is neither up nor down)."""
    rows = sorted(_last_seen(store, [service]), key=lambda r: r["instance"])
    return [
        {
            "instance": r["instance"],
            "version": r["version"],
            "last_seen": r["seen"],
            "stopped": r["stopped"],
            "up": not r["stopped"] and now - r["seen"] <= down_after,
        }
        for r in rows
    ]


_HEALTH_COLUMNS = "service, calls, errors, latency"


@dataclass
class _Health:
    """The figures of the services list, as :class:`WindowAggregate` computes them."""

    calls: int = 0
    errors: int = 0
    latency: DenseSketch = field(default_factory=DenseSketch)

    def add_row(self, row: dict[str, Any]) -> None:
        self.calls += int(row["calls"])
        self.errors += int(row["errors"])
        self.latency.add_dict(orjson.loads(row["latency"]))

    def summary(self, seconds: float) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "calls_per_second": self.calls / seconds,
            "error_rate": self.errors / self.calls if self.calls else None,
            "latency_p99": (
                self.latency.to_sketch().quantile(0.99) if self.latency.count > 0 else None
            ),
        }


def service_names(store: Store) -> list[str]:
    """Every service of the raw data (windows and instance samples), sorted."""
    rows = store.fetch(
        "SELECT DISTINCT service FROM serving_windows"
        " UNION SELECT DISTINCT service FROM instance_samples"
    )
    return sorted(r["service"] for r in rows)


def services_health(
    store: Store,
    now: float,
    *,
    horizon: float = 300.0,
    down_after: float = 60.0,
    services: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Every service (or those of ``services``) with its figures over the last ``horizon``
    seconds and its liveness, in the same few queries however many services there are.

    ``instances`` counts the instances that did not stop cleanly, ``instances_up`` those of
    them that reported in the last ``down_after`` seconds; a service whose instances all
    stopped cleanly is ``stopped``, not down.
    """
    if services is not None and not services:
        return []
    seen: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _last_seen(store, services):
        seen[row["service"]].append(row)
    start, end = now - horizon, now + 1e-6
    where, params = _in(services)
    # Only what the list shows: counts and the latency sketch (not CPU, failures, memory).
    totals: dict[str, _Health] = defaultdict(_Health)
    q = SeriesQuery("", start, end, horizon)
    for row in _rows(store, where, params, q, by_step=False, columns=_HEALTH_COLUMNS):
        totals[row["service"]].add_row(row)
    out = []
    for service, rows in sorted(seen.items()):
        total = totals[service].summary(end - start)
        running = [r for r in rows if not r["stopped"]]
        up = [r for r in running if now - r["seen"] <= down_after]
        out.append(
            {
                "service": service,
                "instances": len(running),
                "instances_up": len(up),
                "instances_stopped": len(rows) - len(running),
                "stopped": not running,
                "last_seen": max(r["seen"] for r in rows),
                "up": bool(up),
                "calls": total["calls"],
                "calls_per_second": total["calls_per_second"],
                "error_rate": total["error_rate"],
                "latency_p99": total["latency_p99"],
            }
        )
    return out


def services_page(
    store: Store,
    now: float,
    *,
    limit: int,
    offset: int = 0,
    horizon: float = 300.0,
    down_after: float = 60.0,
) -> tuple[int, list[dict[str, Any]]]:
    """How many services there are, and the health of ``limit`` of them from ``offset`` in
    name order."""
    names = service_names(store)
    page = names[offset : offset + limit]
    health = services_health(store, now, horizon=horizon, down_after=down_after, services=page)
    return len(names), health


def instance_series(
    store: Store, service: str, start: float, end: float, step: float
) -> list[dict[str, Any]]:
    """Resource samples per instance: mean CPU %, peak RSS and host memory per step."""
    rows = store.fetch(
        "SELECT instance, bucket, AVG(cpu_percent) AS cpu_percent, MAX(rss_bytes) AS rss_bytes,"
        " MAX(host_memory_used_bytes) AS host_memory_used_bytes, MAX(open_fds) AS open_fds"
        " FROM (SELECT instance, FLOOR((time - ?) / ?) AS bucket, cpu_percent, rss_bytes,"
        " host_memory_used_bytes, open_fds FROM instance_samples"
        " WHERE service = ? AND time >= ? AND time < ?) s"
        " GROUP BY instance, bucket ORDER BY instance, bucket",
        (start, step, service, start, end),
    )
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        series[r["instance"]].append(
            {
                "time": start + float(r["bucket"]) * step,
                "cpu_percent": r["cpu_percent"],
                "rss_bytes": r["rss_bytes"],
                "host_memory_used_bytes": r["host_memory_used_bytes"],
                "open_fds": r["open_fds"],
            }
        )
    return [{"labels": {"instance": k}, "points": v} for k, v in sorted(series.items())]


def serving_changes(
    store: Store, service: str | None, start: float, end: float
) -> list[dict[str, Any]]:
    """Deploys and instance starts and stops in ``[start, end)``: a version or instance whose
    first window is in the range (and none in the hour before it) appeared; one whose last
    window ended more than two minutes before ``end`` left. One query over the windows of
    the range and the hour before it; ``service=None`` for every service."""
    before = start - 3600.0
    where, params = ("service = ? AND ", [service]) if service is not None else ("", [])
    rows = store.fetch(
        "SELECT service, version, instance, MIN(start) AS first, MAX(start + length) AS last"
        f" FROM serving_windows WHERE {where}start >= ? AND start < ?"
        " GROUP BY service, version, instance",
        [*params, before, end],
    )
    spans: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        for key in (
            ("version", r["service"], r["version"]),
            ("instance", r["service"], r["instance"]),
        ):
            first, last = float(r["first"]), float(r["last"])
            span = spans.setdefault(key, [first, last])
            span[0], span[1] = min(span[0], first), max(span[1], last)
    out = []
    for (what, name, value), (first, last) in spans.items():
        if not value:
            continue
        if first >= start and first > before + 60.0:
            kind = "deploy" if what == "version" else "instance_start"
            verb = "version {} appeared" if what == "version" else "instance {} started"
            out.append(_change(first, kind, name, verb.format(value), what, value))
        if start <= last < end - 120.0:
            kind = "version_left" if what == "version" else "instance_stop"
            verb = "version {} left" if what == "version" else "instance {} stopped"
            out.append(_change(last, kind, name, verb.format(value), what, value))
    return out


def _change(
    time: float, kind: str, service: str, text: str, what: str, value: str
) -> dict[str, Any]:
    return {
        "time": time,
        "area": "serving",
        "kind": kind,
        "subject": service,
        "text": f"{service}: {text}",
        "url": "/services/" + quote(service, safe="") + "?" + urlencode({what: value}),
    }


def stored_series(store: Store) -> dict[str, set[tuple[str, str, str]]]:
    """Each service of the raw data (windows and instance samples) with its series, the
    ``(operation, version, instance)`` of its stored windows."""
    out: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for row in store.fetch(
        "SELECT DISTINCT service, operation, version, instance FROM serving_windows"
    ):
        out[row["service"]].add((row["operation"], row["version"], row["instance"]))
    for row in store.fetch("SELECT DISTINCT service FROM instance_samples"):
        out[row["service"]]  # a service known from its samples alone has no series yet
    return dict(out)
