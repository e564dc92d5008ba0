"""``POST /v1/metrics``: OTLP/HTTP metrics in, as serving windows.

A service instrumented with OpenTelemetry (e.g. ``opentelemetry-instrumentation-fastapi``
with the OTLP/HTTP exporter pointed at this server) shows up like an mlvitals-instrumented
one. Of its metrics, ``http.server.request.duration`` (seconds) and the older
``http.server.duration`` (milliseconds) are read: explicit-bucket and exponential
histograms, delta and cumulative temporality. Each data point becomes one serving window:
calls (the count), failures (5xx, as ``"HTTP 503"``), client errors (4xx) and a latency
sketch (:mod:`mlvitals.sketches.from_buckets`, which states the error bound). Resource
attributes ``service.name``, ``service.version`` and ``service.instance.id`` give service,
version and instance; the operation is ``"METHOD route"`` as the SDK's middleware names it.

Cumulative points are turned into deltas against the previous point of the same series
kept in this process; the first point of a series counts from its start time (at most one
day back). Protobuf (``application/x-protobuf``) and JSON bodies are accepted, gzip'd or not,
under the ingest scope and body limit of ``/api/v1/ingest``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from mlvitals.errors import BadRequest, HTTPError
from mlvitals.extras import missing_extra
from mlvitals.server.body import parse_json, read_body
from mlvitals.server.deps import require, state
from mlvitals.server.ingest import TimeBounds, validate_envelope
from mlvitals.server.web.answers import errors
from mlvitals.sketches import QuantileSketch
from mlvitals.sketches.from_buckets import from_explicit_buckets, from_exponential_buckets

router: APIRouter = APIRouter()

METRICS = {"http.server.request.duration": 1.0, "http.server.duration": 0.001}
DELTA, CUMULATIVE = 1, 2
MAX_WINDOW = 86400.0
_EMPTY_SKETCH = QuantileSketch().to_dict()

Series = tuple[Any, ...]


class Cumulative:
    """The previous cumulative point of each series, to turn the next one into a delta."""

    def __init__(self) -> None:
        self._last: dict[Series, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def delta(self, key: Series, point: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            before = self._last.get(key)
            self._last[key] = point
        if (
            before is None
            or before["start"] != point["start"]
            or before["count"] > point["count"]
            or before.get("bounds") != point.get("bounds")
        ):
            return point  # a new series, or a reset: counts since its start
        out = dict(point, start=before["time"], count=point["count"] - before["count"])
        out["sum"] = point["sum"] - before["sum"]
        out["low"] = out["high"] = None  # min and max are of the whole stream
        if "counts" in point:
            out["counts"] = [a - b for a, b in zip(point["counts"], before["counts"], strict=True)]
        else:
            scale = min(point["scale"], before["scale"])
            now, then = _indexed(point, scale), _indexed(before, scale)
            merged = {i: n - then.get(i, 0) for i, n in now.items()}
            first = min(merged) if merged else 0
            out.update(scale=scale, offset=first, zero=point["zero"] - before["zero"])
            out["buckets"] = [merged.get(i, 0) for i in range(first, max(merged, default=-1) + 1)]
        return out


def _indexed(point: Mapping[str, Any], scale: int) -> dict[int, int]:
    shift = point["scale"] - scale
    out: dict[int, int] = {}
    for i, n in enumerate(point["buckets"]):
        index = (point["offset"] + i) >> shift
        out[index] = out.get(index, 0) + n
    return out


def _value(v: Mapping[str, Any]) -> Any:
    for key in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if key in v:
            return v[key]
    return None


def _attrs(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {a["key"]: _value(a.get("value", {})) for a in items or []}


def _int(v: Any) -> int:
    return int(v or 0)


def _point(dp: Mapping[str, Any], exponential: bool) -> dict[str, Any]:
    point: dict[str, Any] = {
        "start": _int(dp.get("startTimeUnixNano")) / 1e9,
        "time": _int(dp.get("timeUnixNano")) / 1e9,
        "count": _int(dp.get("count")),
        "sum": float(dp.get("sum") or 0.0),
        "low": float(dp["min"]) if "min" in dp else None,
        "high": float(dp["max"]) if "max" in dp else None,
    }
    if exponential:
        positive = dp.get("positive") or {}
        point.update(
            scale=_int(dp.get("scale")),
            offset=_int(positive.get("offset")),
            buckets=[_int(n) for n in positive.get("bucketCounts", [])],
            zero=_int(dp.get("zeroCount")),
        )
    else:
        point["bounds"] = [float(b) for b in dp.get("explicitBounds", [])]
        point["counts"] = [_int(n) for n in dp.get("bucketCounts", [])]
    return point


def _sketch(point: Mapping[str, Any], unit: float) -> QuantileSketch:
    low = None if point["low"] is None else point["low"] * unit
    high = None if point["high"] is None else point["high"] * unit
    total = point["sum"] * unit
    if "counts" in point:
        if not point["bounds"]:  # one bucket: nothing but the count and the sum
            mean = total / point["count"] if point["count"] else 0.0
            return from_explicit_buckets([mean], [point["count"], 0], total=total)
        bounds = [b * unit for b in point["bounds"]]
        return from_explicit_buckets(bounds, point["counts"], total=total, low=low, high=high)
    # Changing the unit shifts an exponential histogram's buckets off their grid: milliseconds
    # go through explicit bounds instead.
    if unit == 1.0:
        return from_exponential_buckets(
            point["scale"],
            point["offset"],
            point["buckets"],
            zero_count=point["zero"],
            total=total,
            low=low,
            high=high,
        )
    base = 2.0 ** (2.0 ** -point["scale"])
    bounds = [base ** (point["offset"] + i) * unit for i in range(len(point["buckets"]) + 1)]
    counts = [point["zero"], *point["buckets"], 0]
    return from_explicit_buckets(bounds, counts, total=total, low=low, high=high)


def windows(payload: Mapping[str, Any], cumulative: Cumulative) -> list[dict[str, Any]]:
    """Serving-window records from an OTLP ``ExportMetricsServiceRequest`` in its JSON form."""
    if not isinstance(payload, Mapping):
        raise BadRequest("body must be an OTLP ExportMetricsServiceRequest")
    records = []
    for rm in payload.get("resourceMetrics") or []:
        resource = _attrs((rm.get("resource") or {}).get("attributes"))
        service = str(resource.get("service.name") or "unknown_service")[:200]
        version = str(resource.get("service.version") or "")[:200]
        instance = str(resource.get("service.instance.id") or "otlp")[:200]
        scoped = [m for sm in rm.get("scopeMetrics") or [] for m in sm.get("metrics") or []]
        names = {m.get("name") for m in scoped}
        # An app emitting both conventions (semconv "http/dup") is read from the stable one.
        skip = "http.server.duration" if "http.server.request.duration" in names else None
        for metric in scoped:
            unit = METRICS.get(metric.get("name", ""))
            if unit is None or metric.get("name") == skip:
                continue
            exponential = "exponentialHistogram" in metric
            data = metric.get("exponentialHistogram" if exponential else "histogram")
            if not isinstance(data, Mapping):
                continue
            temporality = _temporality(data.get("aggregationTemporality"))
            for dp in data.get("dataPoints") or []:
                attrs = _attrs(dp.get("attributes"))
                point = _point(dp, exponential)
                if temporality == CUMULATIVE:
                    key = (service, version, instance, metric["name"], *sorted(attrs.items()))
                    point = cumulative.delta(key, point)
                if point["count"] <= 0:
                    continue
                records.append(_window(service, version, instance, attrs, point, unit))
    return _merged(records)


def _merged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One window per (service, version, operation, instance) of a request.

    A request holds one point per status code of an operation, and after the first export
    they all start at the previous export. The store keys windows by (service, version,
    operation, instance, start) and keeps the first of a key, so these points must become
    one window (as the SDK's own windows are: failures by status class in one window), or
    all but one status code would be lost. Keeping the key also makes a retried request
    (same points, same starts) a no-op instead of a double count.
    """
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in records:
        key = (r["service"], r["version"], r["operation"], r["instance"])
        into = merged.get(key)
        if into is None:
            merged[key] = r
            continue
        end = max(into["start"] + into["length"], r["start"] + r["length"])
        into["start"] = max(min(into["start"], r["start"]), end - MAX_WINDOW)
        into["length"] = max(end - into["start"], 1e-3)
        into["calls"] += r["calls"]
        into["client_errors"] += r["client_errors"]
        for status, n in r["failures"].items():
            into["failures"][status] = into["failures"].get(status, 0) + n
        into["latency"].merge(r["latency"])
    for r in merged.values():
        r["latency"] = r["latency"].to_dict(packed=True)
    return list(merged.values())


def _temporality(value: Any) -> int:
    names = {"AGGREGATION_TEMPORALITY_DELTA": DELTA, "AGGREGATION_TEMPORALITY_CUMULATIVE": 2}
    if isinstance(value, str) and value in names:
        return names[value]
    return _int(value)


def _window(
    service: str,
    version: str,
    instance: str,
    attrs: Mapping[str, Any],
    point: Mapping[str, Any],
    unit: float,
) -> dict[str, Any]:
    method = attrs.get("http.request.method") or attrs.get("http.method") or ""
    route = attrs.get("http.route") or attrs.get("http.target") or ""
    operation = f"{method} {route}".strip() or "http.server.request"
    status = _int(attrs.get("http.response.status_code") or attrs.get("http.status_code"))
    n = point["count"]
    end = point["time"]
    start = max(point["start"], end - MAX_WINDOW)
    return {
        "kind": "serving_window",
        "service": service,
        "version": version,
        "operation": operation[:200],
        "instance": instance,
        "start": start,
        "length": max(end - start, 1e-3),
        "calls": n,
        "failures": {f"HTTP {status}": n} if status >= 500 else {},
        "client_errors": n if 400 <= status < 500 else 0,
        "latency": _sketch(point, unit),  # a sketch until _merged packs it
        "cpu": _EMPTY_SKETCH,
    }


def _decode(body: bytes, content_type: str) -> Any:
    if content_type.startswith("application/json"):
        return parse_json(body)
    try:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
        )
    except ImportError as exc:
        raise HTTPError(str(missing_extra("server", "OTLP protobuf", exc)), status=415) from None
    message = ExportMetricsServiceRequest()
    try:
        message.ParseFromString(body)
    except Exception as exc:
        raise BadRequest(f"body is not an OTLP protobuf message: {exc}") from None
    return MessageToDict(message)


@router.post(
    "/v1/metrics",
    dependencies=[Depends(require("ingest"))],
    summary="OTLP/HTTP metrics (protobuf or JSON): HTTP server durations become serving windows",
    responses={
        200: {
            "description": "an ExportMetricsServiceResponse: empty when every point was taken",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"partialSuccess": {"type": "object"}},
                    }
                },
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **errors(400, 413, 415),
    },
)
async def otlp_metrics(request: Request) -> Response:
    app = state(request)
    content_type = request.headers.get("content-type", "application/x-protobuf").lower()
    body = await read_body(request, app.settings.max_body_bytes)
    payload = await run_in_threadpool(_decode, body, content_type)
    holder = request.app.state
    if getattr(holder, "otlp_cumulative", None) is None:
        holder.otlp_cumulative = Cumulative()
    records = windows(payload, holder.otlp_cumulative)
    if records:
        envelope = {"batch_id": str(uuid.uuid4()), "records": records}
        admit = app.admit if app.admissions else None
        validated = await run_in_threadpool(
            partial(validate_envelope, times=TimeBounds.of(app.settings), admit=admit),
            envelope,
            app.clock(),
        )
        over_limit = sum(validated.over_limit_by_kind.values())
        if len(validated.errors) > over_limit:
            raise BadRequest(f"OTLP data point not stored: {validated.errors[0].reason}")
        await run_in_threadpool(app.store.write_batch, validated.batch)
        app.metrics.records.labels("serving_window", "accepted").inc(len(records) - over_limit)
        if over_limit:
            # Over a cardinality limit: the rest is stored, the sender is told what was not.
            app.metrics.records.labels("serving_window", "over_limit").inc(over_limit)
            if content_type.startswith("application/json"):
                refused = {
                    "rejectedDataPoints": over_limit,
                    "errorMessage": validated.errors[0].reason,
                }
                return Response(
                    orjson.dumps({"partialSuccess": refused}), media_type="application/json"
                )
    if content_type.startswith("application/json"):
        return Response(b"{}", media_type="application/json")
    return Response(b"", media_type="application/x-protobuf")
