"""Serving records: per-window aggregates of a model service, and instance resource samples.

A ``serving_window`` is what one process saw for one (service, version, operation) during
one window. Latency and CPU-per-call distributions are mergeable sketches in the dict form
of :class:`mlvitals.sketches.QuantileSketch` (``to_dict``/``from_dict``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, Field, field_validator

from mlvitals.server.record_kinds import RecordKind
from mlvitals.server.record_values import (
    INT64_MAX,
    RECORD_CONFIG,
    Name,
    OptionalName,
    check_name,
)
from mlvitals.server.serving import fast
from mlvitals.server.serving.rollup import rollup_marks


class _Record(BaseModel):
    model_config = RECORD_CONFIG


def _check_sketch(value: dict[str, Any]) -> dict[str, Any]:
    from mlvitals.sketches import QuantileSketch

    QuantileSketch.check_dict(value)  # raises ValueError with the reason
    return value


class ServingWindow(_Record):
    kind: Literal["serving_window"]
    service: Name
    version: OptionalName = ""
    operation: Name
    instance: Name
    start: float = Field(ge=0, description="window start, Unix seconds")
    length: float = Field(gt=0, le=86400, description="window length in seconds")
    calls: int = Field(ge=0, le=INT64_MAX)
    failures: dict[str, Annotated[int, Field(le=INT64_MAX)]] = Field(
        default_factory=dict, description="server-side failures by error type"
    )
    client_errors: int = Field(
        default=0, ge=0, le=INT64_MAX, description="calls answered with a 4xx"
    )
    latency: dict[str, Any] = Field(description="sketch of call latency in seconds")
    cpu: dict[str, Any] = Field(description="sketch of CPU seconds per call")
    cpu_seconds: float = Field(default=0.0, ge=0)
    peak_rss_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    gpu_busy_seconds: float | None = Field(default=None, ge=0)
    gpu_peak_memory_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    peak_in_flight: int = Field(default=0, ge=0, le=INT64_MAX)

    @field_validator("failures")
    @classmethod
    def _failures(cls, v: dict[str, int]) -> dict[str, int]:
        for name, count in v.items():
            if not name or len(name) > 200:
                raise ValueError("error type names must be 1-200 characters")
            if check_name(name) != name:
                raise ValueError(f"error type name {name!r} has spaces around it")
            if count < 0:
                raise ValueError(f"failure count for {name!r} is negative")
        if sum(v.values()) > INT64_MAX:
            raise ValueError("failure counts add up to more than a 64-bit integer holds")
        return v

    @field_validator("latency", "cpu")
    @classmethod
    def _sketch(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_sketch(v)


def _window_row(r: ServingWindow) -> dict[str, Any]:
    return {
        "service": r.service,
        "version": r.version,
        "operation": r.operation,
        "instance": r.instance,
        "start": r.start,
        "length": r.length,
        "calls": r.calls,
        "errors": sum(r.failures.values()),
        "client_errors": r.client_errors,
        "failures": orjson.dumps(r.failures).decode(),
        "latency": orjson.dumps(r.latency).decode(),
        "cpu": orjson.dumps(r.cpu).decode(),
        "cpu_seconds": r.cpu_seconds,
        "peak_rss_bytes": r.peak_rss_bytes,
        "gpu_busy_seconds": r.gpu_busy_seconds,
        "gpu_peak_memory_bytes": r.gpu_peak_memory_bytes,
        "peak_in_flight": r.peak_in_flight,
    }


class GpuReading(_Record):
    index: int = Field(ge=0, le=INT64_MAX)
    name: str = Field(default="", max_length=200)
    utilization: float | None = Field(default=None, ge=0, le=1, description="busy fraction")
    memory_used_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    memory_total_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    process_utilization: float | None = Field(default=None, ge=0, le=1)
    process_memory_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)


class InstanceSample(_Record):
    kind: Literal["instance_sample"]
    service: Name
    version: OptionalName = ""
    instance: Name
    time: float = Field(ge=0)
    process_start: float | None = Field(default=None, ge=0)
    cpu_percent: float | None = Field(default=None, ge=0)
    rss_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    host_memory_used_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    host_memory_total_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    open_fds: int | None = Field(default=None, ge=0, le=INT64_MAX)
    cpu_cores_allocated: float | None = Field(
        default=None, gt=0, description="CPU cores this instance may use (cgroup quota or host)"
    )
    memory_allocated_bytes: int | None = Field(
        default=None,
        gt=0,
        le=INT64_MAX,
        description="memory limit of this instance (cgroup limit or host)",
    )
    gpus: list[GpuReading] = Field(default_factory=list, max_length=64)
    stopped: bool = Field(
        default=False,
        description="the instance's last sample of a clean shutdown: it stopped, it is not down",
    )


def _sample_row(r: InstanceSample) -> dict[str, Any]:
    return {
        "service": r.service,
        "version": r.version,
        "instance": r.instance,
        "time": r.time,
        "process_start": r.process_start,
        "cpu_percent": r.cpu_percent,
        "rss_bytes": r.rss_bytes,
        "host_memory_used_bytes": r.host_memory_used_bytes,
        "host_memory_total_bytes": r.host_memory_total_bytes,
        "open_fds": r.open_fds,
        "cpu_cores_allocated": r.cpu_cores_allocated,
        "memory_allocated_bytes": r.memory_allocated_bytes,
        "gpus": orjson.dumps([g.model_dump(exclude_none=True) for g in r.gpus]).decode(),
        "stopped": int(r.stopped),
    }


KINDS: tuple[RecordKind, ...] = (
    RecordKind(
        "serving_window",
        ServingWindow,
        "serving_windows",
        _window_row,
        fast_row=fast.window_row,
        times=("start",),
        derived_rows=rollup_marks,
    ),
    RecordKind(
        "instance_sample",
        InstanceSample,
        "instance_samples",
        _sample_row,
        fast_row=fast.instance_row,
        times=("time",),
    ),
)
