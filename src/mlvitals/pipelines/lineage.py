"""OpenLineage run events mapped onto mlvitals runs, steps and dataset references.

- A job without a ``parent`` run facet is a run of the pipeline named by the job.
- A job with one is a *step* of the parent's run (of the ``root`` run when the facet names
  one, the parent then being the enclosing step), so an Airflow task becomes a step of
  its DAG run. The parent run is recorded as ``seen`` in case its own events never come.
- ``nominalTime`` is the scheduled time, ``errorMessage`` the error; input and output
  datasets keep ``schema``, ``storage.fileFormat``, ``inputStatistics`` /
  ``outputStatistics`` (rows, bytes, files) and ``dataQualityMetrics``. Facets not
  understood here are kept verbatim.

The event type becomes the record's ``event``; the server folds a run's events by
precedence, so repeated or out-of-order events land on the same state.

>>> records = map_run_event({
...     "eventType": "COMPLETE", "eventTime": "2024-06-01T02:03:04Z",
...     "run": {"runId": "0190b6c4-7f43-7a4b-9b7e-2a8f3c1d9e10"},
...     "job": {"namespace": "airflow", "name": "nightly_etl"},
...     "producer": "https://example.com/producer",
... })
>>> [(r["kind"], r["event"], r["pipeline"]) for r in records]
[('run', 'complete', 'nightly_etl')]
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mlvitals.errors import InputError
from mlvitals.pipelines.wire import dataset_record, run_record, step_record

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
_KNOWN_RUN_FACETS = frozenset({"nominalTime", "parent", "errorMessage"})
_KNOWN_DATASET_FACETS = frozenset({"schema", "storage"})
_KNOWN_IO_FACETS = frozenset({"inputStatistics", "outputStatistics", "dataQualityMetrics"})
_ERROR_TYPE = re.compile(r"^([A-Za-z_][\w.$]*(?:Error|Exception|Exit|Interrupt)\w*)\s*:")
MAX_NAME = 500


class LineageError(InputError):
    """An OpenLineage event that cannot be mapped; the message names the field."""


def event_key(event: Mapping[str, Any]) -> str:
    """A stable id for an event, ``uuid5`` of (runId, eventType, eventTime): re-posting the
    same event is recognised as a repeat."""
    run = event.get("run") or {}
    raw = f"{run.get('runId')}|{event.get('eventType') or 'OTHER'}|{event.get('eventTime')}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "openlineage:" + raw))


def parse_time(value: Any, field: str) -> float:
    """ISO-8601 to Unix seconds; a time without an offset is taken as UTC."""
    if not isinstance(value, str) or "t" not in value.lower():
        raise LineageError(f"{field} must be an ISO-8601 date-time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise LineageError(f"{field} is not an ISO-8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _obj(value: Any, field: str, *, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise LineageError(f"{field} must be an object")
    return value


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise LineageError(f"{field} is required: a non-empty string")
    if len(value) > MAX_NAME:
        raise LineageError(f"{field} is longer than {MAX_NAME} characters")
    return value


def _uuid(value: Any, field: str) -> str:
    text = _text(value, field)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise LineageError(f"{field} must be a UUID, got {text[:64]!r}") from None


def map_run_event(event: Any) -> list[dict[str, Any]]:
    """Wire records for one OpenLineage RunEvent; :class:`LineageError` when malformed."""
    if not isinstance(event, dict):
        raise LineageError("an OpenLineage event must be a JSON object")
    event_type = event.get("eventType") or "OTHER"
    if event_type not in EVENT_TYPES:
        raise LineageError(f"eventType must be one of {', '.join(EVENT_TYPES)}; got {event_type!r}")
    if "eventTime" not in event:
        raise LineageError("eventTime is required")
    time = parse_time(event["eventTime"], "eventTime")
    run = _obj(event.get("run"), "run")
    run_id = _uuid(run.get("runId"), "run.runId")
    job = _obj(event.get("job"), "job")
    namespace = _text(job.get("namespace"), "job.namespace")
    name = _text(job.get("name"), "job.name")
    facets = _obj(run.get("facets"), "run.facets", required=False)
    kind = event_type.lower()

    scheduled_at = None
    nominal = facets.get("nominalTime")
    if nominal is not None:
        nominal = _obj(nominal, "run.facets.nominalTime")
        scheduled_at = parse_time(
            nominal.get("nominalStartTime"), "run.facets.nominalTime.nominalStartTime"
        )
    error = _error(facets.get("errorMessage"))
    extra = {k: v for k, v in facets.items() if k not in _KNOWN_RUN_FACETS}
    job_facets = job.get("facets")
    if isinstance(job_facets, dict) and job_facets:
        extra["job"] = job_facets

    records: list[dict[str, Any]] = []
    parent = facets.get("parent")
    if parent is None:
        owner, step_id = run_id, ""
        records.append(
            run_record(
                run_id,
                kind,
                time,
                name,
                namespace=namespace,
                scheduled_at=scheduled_at,
                error=error,
                facets=extra or None,
                source="openlineage",
            )
        )
    else:
        owner, parent_step, pipeline, pipeline_ns = _parent(parent)
        if owner == run_id:
            raise LineageError("run.facets.parent names the run itself")
        step_id = run_id
        records.append(
            run_record(
                owner,
                "seen",
                time,
                pipeline,
                namespace=pipeline_ns,
                scheduled_at=scheduled_at,
                source="openlineage",
            )
        )
        records.append(
            step_record(
                owner,
                run_id,
                kind,
                time,
                name,
                parent_step_id=parent_step,
                error=error,
                facets=extra or None,
                source="openlineage",
            )
        )
    for direction, key, io_key in (
        ("input", "inputs", "inputFacets"),
        ("output", "outputs", "outputFacets"),
    ):
        items = event.get(key) or []
        if not isinstance(items, list):
            raise LineageError(f"{key} must be a list of datasets")
        for i, item in enumerate(items):
            ref = _dataset(_obj(item, f"{key}[{i}]"), f"{key}[{i}]", io_key)
            records.append(dataset_record(owner, step_id, direction, kind, time, ref))
    return records


def _parent(parent: Any) -> tuple[str, str | None, str, str]:
    """(run id that owns the step, parent step id, pipeline name, pipeline namespace)."""
    parent = _obj(parent, "run.facets.parent")
    p_run = _obj(parent.get("run"), "run.facets.parent.run")
    p_job = _obj(parent.get("job"), "run.facets.parent.job")
    parent_id = _uuid(p_run.get("runId"), "run.facets.parent.run.runId")
    pipeline = _text(p_job.get("name"), "run.facets.parent.job.name")
    namespace = _text(p_job.get("namespace"), "run.facets.parent.job.namespace")
    root = parent.get("root")
    if root is None:
        return parent_id, None, pipeline, namespace
    root = _obj(root, "run.facets.parent.root")
    root_id = _uuid(
        _obj(root.get("run"), "run.facets.parent.root.run").get("runId"),
        "run.facets.parent.root.run.runId",
    )
    if root_id == parent_id:
        return parent_id, None, pipeline, namespace
    r_job = _obj(root.get("job"), "run.facets.parent.root.job")
    return (
        root_id,
        parent_id,
        _text(r_job.get("name"), "run.facets.parent.root.job.name"),
        _text(r_job.get("namespace"), "run.facets.parent.root.job.namespace"),
    )


def _error(facet: Any) -> dict[str, str] | None:
    if facet is None:
        return None
    facet = _obj(facet, "run.facets.errorMessage")
    message = facet.get("message")
    if not isinstance(message, str):
        raise LineageError("run.facets.errorMessage.message is required: a string")
    match = _ERROR_TYPE.match(message)
    language = facet.get("programmingLanguage")
    fallback = f"{language} error" if isinstance(language, str) and language else "error"
    trace = facet.get("stackTrace")
    return {
        "type": match.group(1) if match else fallback,
        "message": message[:2000],
        "traceback": trace[-8000:] if isinstance(trace, str) else "",
    }


def _dataset(item: dict[str, Any], where: str, io_key: str) -> dict[str, Any]:
    namespace = _text(item.get("namespace"), f"{where}.namespace")
    name = _text(item.get("name"), f"{where}.name")
    facets = _obj(item.get("facets"), f"{where}.facets", required=False)
    io = _obj(item.get(io_key), f"{where}.{io_key}", required=False)
    ref: dict[str, Any] = {"namespace": namespace, "name": name}
    schema = facets.get("schema")
    if isinstance(schema, dict) and isinstance(schema.get("fields"), list):
        ref["schema"] = [
            {"name": str(f.get("name")), "type": f.get("type")}
            for f in schema["fields"]
            if isinstance(f, dict) and f.get("name") is not None
        ]
    storage = facets.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("fileFormat"), str):
        ref["format"] = storage["fileFormat"]
    stats = io.get("inputStatistics") or io.get("outputStatistics")
    quality = io.get("dataQualityMetrics")
    for source, fields in (
        (quality, (("rowCount", "rows"), ("bytes", "bytes"), ("fileCount", "file_count"))),
        (stats, (("rowCount", "rows"), ("size", "bytes"), ("fileCount", "file_count"))),
    ):
        if isinstance(source, dict):
            for theirs, ours in fields:
                value = source.get(theirs)
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    ref[ours] = value
    if isinstance(quality, dict):
        ref["quality"] = quality
    extra = {k: v for k, v in facets.items() if k not in _KNOWN_DATASET_FACETS}
    extra |= {k: v for k, v in io.items() if k not in _KNOWN_IO_FACETS}
    if extra:
        ref["facets"] = extra
    return ref
