"""Serving API: services, their time series, instances and uptime probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from mlvitals.errors import BadRequest, NotFound
from mlvitals.server.deps import require, state
from mlvitals.server.serving.prober import availability
from mlvitals.server.serving.queries import (
    SeriesQuery,
    instance_series,
    instances,
    services_page,
    serving_series,
    serving_total,
)
from mlvitals.server.timerange import time_range
from mlvitals.server.web.answers import Answer, Number, errors, json_answer

router: APIRouter = APIRouter(
    prefix="/api/v1", dependencies=[Depends(require("read"))], tags=["serving"]
)

START = Query(None, description="Unix seconds, 'now' or 'now-6h' (default: end - 1h)")
END = Query(None, description="Unix seconds or 'now' (default: now)")
STEP = Query(None, description="seconds or a duration like 5m (default: about 120 points)")
SERVICES_LIMIT = 500
SERVICES_MAX_LIMIT = 5000


class ServiceHealth(Answer):
    service: str
    instances: int
    instances_up: int
    instances_stopped: int
    last_seen: Number
    up: bool
    stopped: bool
    calls: int
    calls_per_second: Number | None
    error_rate: Number | None
    latency_p99: Number | None


class Measures(Answer):
    """One step (or the whole range) of merged serving windows; ``None`` where nothing was
    measured (no calls, no GPU)."""

    calls: int
    calls_per_second: Number | None
    errors: int
    client_errors: int
    error_rate: Number | None
    failures: dict[str, int]
    latency_p50: Number | None
    latency_p90: Number | None
    latency_p95: Number | None
    latency_p99: Number | None
    latency_mean: Number | None
    cpu_per_call: Number | None
    cpu_p99: Number | None
    cpu_seconds: Number | None
    peak_rss_bytes: int | None
    gpu_utilization: Number | None
    gpu_peak_memory_bytes: int | None
    peak_in_flight: int | None


class Point(Measures):
    time: Number


class Series(Answer):
    labels: dict[str, str]
    points: list[Point]


class SeriesAnswer(Answer):
    start: Number
    end: Number
    step: Number
    total: Measures
    series: list[Series]


class Instance(Answer):
    instance: str
    version: str
    last_seen: Number
    up: bool
    stopped: bool


class ResourcePoint(Answer):
    time: Number
    cpu_percent: Number | None
    rss_bytes: int | None
    host_memory_used_bytes: int | None
    open_fds: int | None


class ResourceSeries(Answer):
    labels: dict[str, str]
    points: list[ResourcePoint]


class InstancesAnswer(Answer):
    instances: list[Instance]
    resources: list[ResourceSeries]
    step: Number


class Probe(Answer):
    target: str
    checks: int
    ok: int
    availability: Number
    mean_latency_seconds: Number | None
    last_check: Number
    last_ok: bool
    last_status: int | None
    last_error: str | None


@router.get(
    "/services",
    summary="Services with their health over the last 5 minutes, a page at a time",
    response_model=list[ServiceHealth],
    responses=errors(400),
)
async def list_services(
    request: Request,
    response: Response,
    limit: str | None = Query(
        None, description=f"services per page, 1-{SERVICES_MAX_LIMIT} (default {SERVICES_LIMIT})"
    ),
    offset: str | None = Query(None, description="services to skip, in name order (default 0)"),
) -> list[dict[str, Any]]:
    """Services in name order. ``X-Total-Count`` says how many there are; while more
    follow, ``Link`` has the next page's URL (``rel="next"``)."""
    app = state(request)
    size = _whole("limit", limit, SERVICES_LIMIT, 1, SERVICES_MAX_LIMIT)
    skip = _whole("offset", offset, 0, 0, None)
    total, page = await run_in_threadpool(
        services_page,
        app.store,
        app.clock(),
        limit=size,
        offset=skip,
        down_after=app.settings.down_after,
    )
    response.headers["X-Total-Count"] = str(total)
    if skip + size < total:
        after = request.url.include_query_params(limit=size, offset=skip + size)
        response.headers["Link"] = f'<{after}>; rel="next"'
    return page


def _whole(name: str, raw: str | None, default: int, low: int, high: int | None) -> int:
    if raw is None:
        return default
    allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name!r} must be a whole number {allowed}, got {raw[:64]!r}") from None
    if value < low or (high is not None and value > high):
        raise BadRequest(f"{name!r} must be a whole number {allowed}, got {value}")
    return value


@router.get(
    "/services/{service}/series",
    summary="Calls, errors, latency, CPU, memory, GPU",
    response_model=SeriesAnswer,
    responses=errors(400, 404),
)
async def service_series(
    request: Request,
    service: str,
    start: str | None = START,
    end: str | None = END,
    step: str | None = STEP,
    version: str | None = None,
    operation: str | None = None,
    instance: str | None = None,
    group_by: str = Query("", description="comma-separated: version, operation, instance"),
) -> Response:
    app = state(request)
    tr = time_range(start, end, step, app.clock())
    groups = tuple(g.strip() for g in group_by.split(",") if g.strip())
    q = SeriesQuery(service, tr.start, tr.end, tr.step, version, operation, instance, groups)
    series = await run_in_threadpool(serving_series, app.store, q)
    total = await run_in_threadpool(serving_total, app.store, q)
    if not series and not await _known(request, service):
        raise NotFound(f"no data for service {service!r}")
    # The hot path: answered as is, SeriesAnswer documents it (tests hold the two together).
    return json_answer(
        {"start": tr.start, "end": tr.end, "step": tr.step, "total": total, "series": series}
    )


@router.get(
    "/services/{service}/instances",
    summary="Instances, liveness and resources",
    response_model=InstancesAnswer,
    responses=errors(400, 404),
)
async def service_instances(
    request: Request,
    service: str,
    start: str | None = START,
    end: str | None = END,
    step: str | None = STEP,
) -> dict[str, Any]:
    app = state(request)
    tr = time_range(start, end, step, app.clock())
    listed = await run_in_threadpool(
        instances, app.store, service, app.clock(), down_after=app.settings.down_after
    )
    if not listed:
        raise NotFound(f"no data for service {service!r}")
    resources = await run_in_threadpool(
        instance_series, app.store, service, tr.start, tr.end, tr.step
    )
    return {"instances": listed, "resources": resources, "step": tr.step}


@router.get(
    "/probes",
    summary="Uptime probes: availability and latest result per target",
    response_model=list[Probe],
    responses=errors(400),
)
async def probes(
    request: Request, start: str | None = START, end: str | None = END
) -> list[dict[str, Any]]:
    app = state(request)
    tr = time_range(start, end, None, app.clock(), default=86400.0)
    return await run_in_threadpool(availability, app.store, tr.start, tr.end)


async def _known(request: Request, service: str) -> bool:
    app = state(request)
    rows = await run_in_threadpool(
        app.store.fetch,
        "SELECT 1 AS x FROM serving_windows WHERE service = ? LIMIT 1",
        (service,),
    )
    return bool(rows)
