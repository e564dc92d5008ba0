"""``POST /api/v1/lineage``: OpenLineage run events, the endpoint OpenLineage clients call.

Each event becomes run, step and dataset records (:mod:`mlvitals.pipelines.lineage`)
stored as one batch whose id derives from (runId, eventType, eventTime): posting the same
event again is a no-op. Static dataset and job events (no ``run``) are accepted and
ignored.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from mlvitals.errors import BadRequest, StoreError
from mlvitals.pipelines.lineage import LineageError, event_key, map_run_event
from mlvitals.server.body import parse_json, read_body
from mlvitals.server.deps import require, state
from mlvitals.server.ingest import TimeBounds, validate_envelope
from mlvitals.server.web.answers import Answer, errors

router: APIRouter = APIRouter()


class LineageAnswer(Answer):
    run_id: str
    duplicate: bool
    stored: int


class Ignored(Answer):
    stored: int
    ignored: str


def _static_event(event: Any) -> bool:
    """A DatasetEvent or JobEvent: OpenLineage events that describe no run."""
    return (
        isinstance(event, dict)
        and "run" not in event
        and "eventType" not in event
        and ("dataset" in event or "job" in event)
    )


_REQUEST_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "An OpenLineage RunEvent (eventType START, RUNNING, COMPLETE, FAIL, ABORT or "
            "OTHER). `Content-Encoding: gzip` is accepted."
        ),
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/api/v1/lineage",
    dependencies=[Depends(require("ingest"))],
    openapi_extra=_REQUEST_DOC,
    summary="Ingest an OpenLineage run event",
    status_code=201,
    response_model=LineageAnswer,
    responses={
        200: {"model": Ignored, "description": "not a run event (a job or dataset event)"},
        **errors(400, 413),
    },
)
async def lineage(request: Request) -> Any:
    """Map the event onto runs and steps and store it; a repeated event is a no-op."""
    app = state(request)
    body = await read_body(request, app.settings.max_body_bytes)
    event = parse_json(body)
    if _static_event(event):
        return JSONResponse({"stored": 0, "ignored": "not a run event"}, status_code=200)
    try:
        records = map_run_event(event)
    except LineageError as exc:
        app.metrics.batches.labels("invalid").inc()
        raise BadRequest(f"invalid OpenLineage event: {exc}") from None
    envelope = {"batch_id": event_key(event), "records": records}
    validated = await run_in_threadpool(
        partial(validate_envelope, times=TimeBounds.of(app.settings)), envelope, app.clock()
    )
    if validated.errors:
        app.metrics.batches.labels("invalid").inc()
        e = validated.errors[0]
        raise BadRequest(f"invalid OpenLineage event: {e.kind} {e.field}: {e.reason}")
    try:
        result = await run_in_threadpool(app.store.write_batch, validated.batch)
    except StoreError:
        app.metrics.batches.labels("failed").inc()
        app.metrics.store_errors.inc()
        raise
    app.metrics.batches.labels("duplicate" if result.duplicate else "stored").inc()
    if not result.duplicate:
        for kind, n in validated.accepted_by_kind.items():
            app.metrics.records.labels(kind, "accepted").inc(n)
    return {
        "run_id": event["run"]["runId"],
        "duplicate": result.duplicate,
        "stored": result.inserted,
    }
