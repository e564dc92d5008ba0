"""Pipeline records: run and step events, dataset references, environments, pipeline configs.

Runs and steps are stored as append-only events (see :mod:`mlvitals.pipelines.wire`);
:mod:`mlvitals.pipelines.fold` turns a run's events into its state at query time.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from mlvitals.errors import ConfigError
from mlvitals.server.record_kinds import RecordKind
from mlvitals.server.record_values import INT64_MAX, RECORD_CONFIG, Name, check_name

Event = Literal["start", "running", "complete", "fail", "abort", "other", "seen"]
Id = Name
LongName = Annotated[str, Field(max_length=500), AfterValidator(check_name)]


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


class _Record(BaseModel):
    model_config = RECORD_CONFIG


class ErrorInfo(_Record):
    type: str = Field(max_length=500)
    message: str = Field(default="", max_length=10_000)
    traceback: str = Field(default="", max_length=20_000)


class Resources(_Record):
    cpu_seconds: float | None = Field(default=None, ge=0)
    peak_rss_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    gpu_seconds: float | None = Field(default=None, ge=0)
    wall_seconds: float | None = Field(default=None, ge=0)


def _error_cols(error: ErrorInfo | None) -> dict[str, Any]:
    return {
        "error_type": None if error is None else error.type,
        "error_message": None if error is None else error.message,
        "traceback": None if error is None else error.traceback,
    }


def _resource_cols(res: Resources | None) -> dict[str, Any]:
    r = res or Resources()
    return {
        "cpu_seconds": r.cpu_seconds,
        "peak_rss_bytes": r.peak_rss_bytes,
        "gpu_seconds": r.gpu_seconds,
        "wall_seconds": r.wall_seconds,
    }


class RunRecord(_Record):
    kind: Literal["run"]
    run_id: Id
    event: Event
    time: float = Field(ge=0, description="event time, Unix seconds")
    pipeline: LongName
    namespace: str = Field(default="", max_length=500)
    run_kind: str | None = Field(default=None, max_length=50, description="data, training, ...")
    trigger: str | None = Field(default=None, max_length=100)
    scheduled_at: float | None = Field(default=None, ge=0)
    parent_run_id: str | None = Field(default=None, max_length=200)
    params: dict[str, Any] | None = None
    environment_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    error: ErrorInfo | None = None
    resources: Resources | None = None
    model_version: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=200)
    serving_version: str | None = Field(default=None, max_length=200)
    host: str | None = Field(default=None, max_length=255)
    pid: int | None = Field(default=None, ge=0, le=INT64_MAX)
    source: str = Field(default="sdk", max_length=50)
    facets: dict[str, Any] | None = None


def _run_row(r: RunRecord) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "event": r.event,
        "time": r.time,
        "pipeline": r.pipeline,
        "namespace": r.namespace,
        "run_kind": r.run_kind,
        "trigger": r.trigger,
        "scheduled_at": r.scheduled_at,
        "parent_run_id": r.parent_run_id,
        "params": _json(r.params),
        "environment_hash": r.environment_hash,
        **_error_cols(r.error),
        **_resource_cols(r.resources),
        "model_version": r.model_version,
        "service": r.service,
        "serving_version": r.serving_version,
        "host": r.host,
        "pid": r.pid,
        "source": r.source,
        "facets": _json(r.facets),
    }


class StepRecord(_Record):
    kind: Literal["step"]
    run_id: Id
    step_id: Id
    event: Event
    time: float = Field(ge=0)
    name: LongName
    parent_step_id: str | None = Field(default=None, max_length=200)
    error: ErrorInfo | None = None
    resources: Resources | None = None
    host: str | None = Field(default=None, max_length=255)
    pid: int | None = Field(default=None, ge=0, le=INT64_MAX)
    source: str = Field(default="sdk", max_length=50)
    facets: dict[str, Any] | None = None


def _step_row(r: StepRecord) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "step_id": r.step_id,
        "event": r.event,
        "time": r.time,
        "name": r.name,
        "parent_step_id": r.parent_step_id,
        **_error_cols(r.error),
        **_resource_cols(r.resources),
        "host": r.host,
        "pid": r.pid,
        "source": r.source,
        "facets": _json(r.facets),
    }


class SchemaField(_Record):
    name: str = Field(max_length=500)
    type: str | None = Field(default=None, max_length=500)


class FileEntry(_Record):
    path: str = Field(max_length=4096)
    bytes: int = Field(ge=0, le=INT64_MAX)
    type: str = Field(max_length=50)
    rows: int | None = Field(default=None, ge=0, le=INT64_MAX)


class DatasetRecord(_Record):
    kind: Literal["dataset"]
    run_id: Id
    step_id: str = Field(default="", max_length=200, description="empty: the run as a whole")
    direction: Literal["input", "output"]
    event: Event
    time: float = Field(ge=0)
    namespace: str = Field(default="", max_length=500)
    name: str = Field(min_length=1, max_length=4096)
    format: str | None = Field(default=None, max_length=50)
    file_count: int | None = Field(default=None, ge=0, le=INT64_MAX)
    file_types: dict[str, int] | None = None
    bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    rows: int | None = Field(default=None, ge=0, le=INT64_MAX)
    schema_: list[SchemaField] | None = Field(default=None, alias="schema", max_length=10_000)
    files: list[FileEntry] | None = Field(default=None, max_length=1000)
    files_truncated: bool = False
    quality: dict[str, Any] | None = None
    facets: dict[str, Any] | None = None


def _dataset_row(r: DatasetRecord) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "step_id": r.step_id,
        "direction": r.direction,
        "event": r.event,
        "time": r.time,
        "namespace": r.namespace,
        "name": r.name,
        "format": r.format,
        "file_count": r.file_count,
        "file_types": _json(r.file_types),
        "bytes": r.bytes,
        "rows": r.rows,
        "schema_json": _json(None if r.schema_ is None else [f.model_dump() for f in r.schema_]),
        "files": _json(None if r.files is None else [f.model_dump() for f in r.files]),
        "files_truncated": int(r.files_truncated),
        "quality": _json(r.quality),
        "facets": _json(r.facets),
    }


class EnvironmentRecord(_Record):
    kind: Literal["environment"]
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    python: str = Field(max_length=50)
    implementation: str = Field(default="", max_length=50)
    platform: str = Field(default="", max_length=500)
    packages: dict[str, str] = Field(max_length=100_000)
    captured_at: float | None = Field(default=None, ge=0)


def _environment_row(r: EnvironmentRecord) -> dict[str, Any]:
    return {
        "hash": r.hash,
        "python": r.python,
        "implementation": r.implementation,
        "platform": r.platform,
        "packages": _json(r.packages),
        "captured_at": r.captured_at,
    }


class PipelineRecord(_Record):
    kind: Literal["pipeline"]
    pipeline: LongName
    time: float = Field(ge=0, description="when this configuration was declared")
    schedule: str | None = Field(default=None, max_length=200, description="cron expression")
    timezone: str = Field(default="UTC", max_length=100)
    grace_seconds: float = Field(default=300.0, ge=0)
    max_duration_seconds: float | None = Field(default=None, gt=0)
    history: int = Field(default=20, ge=3, le=1000)

    @model_validator(mode="after")
    def _cron(self) -> PipelineRecord:
        if self.schedule is not None:
            from mlvitals.pipelines.schedule import check_cron

            try:
                check_cron(self.schedule, self.timezone)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return self


def _pipeline_row(r: PipelineRecord) -> dict[str, Any]:
    return {
        "pipeline": r.pipeline,
        "time": r.time,
        "schedule": r.schedule,
        "timezone": r.timezone,
        "grace_seconds": r.grace_seconds,
        "max_duration_seconds": r.max_duration_seconds,
        "history": r.history,
    }


KINDS: tuple[RecordKind, ...] = (
    RecordKind("run", RunRecord, "run_events", _run_row, times=("time", "scheduled_at")),
    RecordKind("step", StepRecord, "step_events", _step_row, times=("time",)),
    RecordKind("dataset", DatasetRecord, "dataset_refs", _dataset_row, times=("time",)),
    RecordKind(
        "environment",
        EnvironmentRecord,
        "environments",
        _environment_row,
        times=("captured_at",),
    ),
    RecordKind("pipeline", PipelineRecord, "pipeline_configs", _pipeline_row, times=("time",)),
)
