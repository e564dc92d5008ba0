"""Data-quality records: dataset profiles and check results (see :mod:`mlvitals.sdk.quality`).

A ``dataset_profile`` carries a profile's versioned JSON (``mlvitals.profile``, version 1);
a ``check_result`` carries a check's versioned JSON (``mlvitals.check``, version 1). Both
are validated here, down to reading their profiles with the engine's own reader, and are
stored whole next to the numbers the pages, the API and the alert rules read: a check
becomes one ``check_results`` row plus one ``check_drift`` row per column, so the drift of
a column over time is one indexed query.

Natural keys are (dataset, time, id): re-sending a record never double-counts.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from mlvitals.errors import InputError
from mlvitals.sdk.quality import MAX_DATASET_NAME, MAX_RECORD_BYTES
from mlvitals.server.record_kinds import RecordKind
from mlvitals.server.record_values import INT64_MAX, RECORD_CONFIG, check_name

MAX_COLUMNS = 20_000
MAX_FAILURES = 10_000
MAX_SAMPLES = 20
_SAMPLE_TEXT = 200


class _Record(BaseModel):
    model_config = RECORD_CONFIG


class _Doc(BaseModel):
    """Part of an engine document: later engine versions may add fields, which are kept."""

    model_config = ConfigDict(extra="allow", frozen=True)


def _size_check(value: Any, what: str) -> Any:
    size = len(orjson.dumps(value))
    if size > MAX_RECORD_BYTES:
        raise ValueError(
            f"the {what} is {size / 2**20:.1f} MiB of JSON, over the limit of "
            f"{MAX_RECORD_BYTES >> 20} MiB per record; send it without its sketches and "
            "correlations (the mlvitals SDK and CLI do so themselves), or check fewer "
            "columns at a time"
        )
    return value


def _readable_profile(value: dict[str, Any]) -> dict[str, Any]:
    """Read a profile with the engine's reader: a record the pages cannot read is refused."""
    from mlvitals.quality.profile_json import from_dict

    try:
        from_dict(value, source="the profile")
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return value


def _finite(value: float | None) -> float | None:
    # SQLite stores NaN as NULL and PostgreSQL keeps it: store NULL on both.
    return value if value is None or math.isfinite(value) else None


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class Ids(_Record):
    id: str = Field(min_length=1, max_length=200, description="unique per record (a UUID)")
    dataset: Annotated[str, Field(max_length=MAX_DATASET_NAME), AfterValidator(check_name)]
    time: float = Field(ge=0, description="when the data was profiled or checked, Unix seconds")
    run_id: str | None = Field(default=None, max_length=200, description="the pipeline run")
    step_id: str | None = Field(default=None, max_length=200, description="the run's step")
    bytes: int | None = Field(
        default=None, ge=0, le=INT64_MAX, description="size of the data (disk or memory)"
    )
    trimmed: list[Literal["correlation", "sketches"]] = Field(
        default_factory=list, max_length=2, description="what was left out to fit the limit"
    )


# -- dataset_profile ------------------------------------------------------------------------


class ProfileRecord(Ids):
    kind: Literal["dataset_profile"]
    source: str | None = Field(default=None, max_length=4096, description="what was profiled")
    profile: dict[str, Any] = Field(description="an mlvitals.profile document, version 1")

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: dict[str, Any]) -> dict[str, Any]:
        _size_check(v, "profile")
        return _readable_profile(v)


def _profile_row(r: ProfileRecord) -> dict[str, Any]:
    text = _json(r.profile)
    return {
        "dataset": r.dataset,
        "time": r.time,
        "profile_id": r.id,
        "run_id": r.run_id,
        "step_id": r.step_id,
        "source": r.source,
        "rows": int(r.profile["rows"]),
        "column_count": len(r.profile["columns"]),
        "bytes": r.bytes,
        "profile": text,
        "profile_bytes": len(text),
        "trimmed": _json(r.trimmed) if r.trimmed else None,
    }


# -- check_result ---------------------------------------------------------------------------


class SampleDoc(_Doc):
    row: int = Field(ge=0, le=INT64_MAX)
    value: Any = None


class FailureDoc(_Doc):
    check: str = Field(min_length=1, max_length=100)
    column: str | None = Field(default=None, max_length=4096)
    message: str = Field(max_length=10_000)
    observed: float | int | str | None = None
    limit: float | int | str | None = None
    count: int | None = Field(default=None, ge=0, le=INT64_MAX)
    samples: list[SampleDoc] = Field(default_factory=list, max_length=1000)


class ColumnDriftDoc(_Doc):
    column: str = Field(min_length=1, max_length=4096)
    kind: str = Field(max_length=50)
    method: str = Field(max_length=200)
    drifted: bool
    test: str | None = Field(default=None, max_length=100)
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    alpha: float | None = None
    effect: str | None = Field(default=None, max_length=100)
    effect_size: float | None = None
    threshold: float | None = None
    n_reference: int = Field(ge=0, le=INT64_MAX)
    n_current: int = Field(ge=0, le=INT64_MAX)
    route: str = Field(default="raw", max_length=20)
    skipped: bool = False
    note: str | None = Field(default=None, max_length=2000)


class DriftDoc(_Doc):
    dataset_drift: bool
    drifted_share: float = Field(ge=0, le=1)
    dataset_share: float = Field(gt=0, le=1)
    correction: str = Field(default="bh", max_length=20)
    columns: list[ColumnDriftDoc] = Field(max_length=MAX_COLUMNS)

    @field_validator("columns")
    @classmethod
    def _unique(cls, v: list[ColumnDriftDoc]) -> list[ColumnDriftDoc]:
        names = [c.column for c in v]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})[:5]
            raise ValueError(f"drift lists column(s) {', '.join(map(repr, dupes))} twice")
        return v


class CheckDoc(_Doc):
    format: Literal["mlvitals.check"]
    version: int
    passed: bool
    data: str = Field(default="data", max_length=4096)
    reference: str = Field(default="reference", max_length=4096)
    rows: int = Field(ge=0, le=INT64_MAX)
    reference_rows: int = Field(ge=0, le=INT64_MAX)
    failures: list[FailureDoc] = Field(max_length=MAX_FAILURES)
    drift: DriftDoc
    notes: list[str] = Field(default_factory=list, max_length=100)
    profile: dict[str, Any]
    reference_profile: dict[str, Any]

    @field_validator("version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != 1:
            raise ValueError(
                f"this server reads check results of format version 1, got version {v}: "
                "upgrade the server"
            )
        return v

    @field_validator("profile", "reference_profile")
    @classmethod
    def _profiles(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _readable_profile(v)


class CheckRecord(Ids):
    kind: Literal["check_result"]
    result: CheckDoc = Field(description="an mlvitals.check document, version 1")
    # The document as sent, stored verbatim (parsing would turn "NaN" strings into floats).
    _text: str = PrivateAttr(default="")

    @field_validator("result", mode="before")
    @classmethod
    def _result_size(cls, v: Any) -> Any:
        return _size_check(v, "check result")

    @model_validator(mode="wrap")
    @classmethod
    def _keep_text(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        record = handler(data)
        if isinstance(data, dict) and isinstance(record, CheckRecord):
            record._text = _json(data["result"])
        return record


def _failure_summary(f: FailureDoc) -> dict[str, Any]:
    samples = []
    for s in f.samples[:MAX_SAMPLES]:
        value = s.value
        if isinstance(value, str) and len(value) > _SAMPLE_TEXT:
            value = value[:_SAMPLE_TEXT] + "…"
        elif not isinstance(value, str | int | float | bool | None):
            value = str(value)[:_SAMPLE_TEXT]
        samples.append({"row": s.row, "value": value})
    return {
        "check": f.check,
        "column": f.column,
        "message": f.message,
        "observed": f.observed,
        "limit": f.limit,
        "count": f.count,
        "samples": samples,
    }


def _check_row(r: CheckRecord) -> dict[str, Any]:
    doc = r.result
    tested = [c for c in doc.drift.columns if not c.skipped]
    return {
        "dataset": r.dataset,
        "time": r.time,
        "check_id": r.id,
        "run_id": r.run_id,
        "step_id": r.step_id,
        "data_name": doc.data,
        "reference": doc.reference,
        "passed": int(doc.passed),
        "dataset_drift": int(doc.drift.dataset_drift),
        "drifted_share": doc.drift.drifted_share,
        "dataset_share": doc.drift.dataset_share,
        "columns_tested": len(tested),
        "columns_drifted": sum(c.drifted for c in tested),
        "failure_count": len(doc.failures),
        "failures": _json([_failure_summary(f) for f in doc.failures]),
        "rows": doc.rows,
        "reference_rows": doc.reference_rows,
        "column_count": len(doc.profile.get("columns", [])),
        "bytes": r.bytes,
        "notes": _json(doc.notes),
        "result": r._text,
        "result_bytes": len(r._text),
        "trimmed": _json(r.trimmed) if r.trimmed else None,
    }


def _drift_rows(r: CheckRecord) -> dict[str, list[dict[str, Any]]]:
    rows = [
        {
            "dataset": r.dataset,
            "time": r.time,
            "check_id": r.id,
            "column_name": c.column,
            "kind": c.kind,
            "method": c.method,
            "test": c.test,
            "statistic": _finite(c.statistic),
            "p_value": _finite(c.p_value),
            "p_adjusted": _finite(c.p_adjusted),
            "alpha": _finite(c.alpha),
            "effect": c.effect,
            "effect_size": _finite(c.effect_size),
            "threshold": _finite(c.threshold),
            "drifted": int(c.drifted),
            "skipped": int(c.skipped),
            "route": c.route,
            "n_reference": c.n_reference,
            "n_current": c.n_current,
            "note": c.note,
        }
        for c in r.result.drift.columns
    ]
    return {"check_drift": rows}


KINDS: tuple[RecordKind, ...] = (
    RecordKind("dataset_profile", ProfileRecord, "dataset_profiles", _profile_row, times=("time",)),
    RecordKind(
        "check_result",
        CheckRecord,
        "check_results",
        _check_row,
        extra_rows=_drift_rows,
        times=("time",),
    ),
)
