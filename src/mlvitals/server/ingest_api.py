"""``POST /api/v1/ingest``: idempotent, record-by-record validated batches."""

from __future__ import annotations

import time
from collections import Counter
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from mlvitals.errors import BadRequest, StoreError
from mlvitals.server.areas import RECORD_KINDS
from mlvitals.server.body import parse_json, read_body
from mlvitals.server.deps import require, state
from mlvitals.server.ingest import TimeBounds, validate_envelope
from mlvitals.server.record_values import may_be_unstorable
from mlvitals.server.web.answers import Answer, errors, json_answer

router: APIRouter = APIRouter()


class RejectedRecord(Answer):
    index: int
    kind: str | None
    field: str
    reason: str


class IngestAnswer(Answer):
    """What was done with a batch: counts, and the invalid records (the first 1000)."""

    batch_id: str
    duplicate: bool
    accepted: int
    rejected: int
    stored: int
    already_stored: int
    errors: list[RejectedRecord]


_REQUEST_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "A batch of records. `Content-Encoding: gzip` is accepted. Each record has a "
            "`kind`; known kinds: " + ", ".join(f"`{k}`" for k in sorted(RECORD_KINDS))
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["batch_id", "records"],
                    "properties": {
                        "batch_id": {"type": "string", "format": "uuid"},
                        "records": {"type": "array", "items": {"type": "object"}},
                    },
                }
            }
        },
    }
}


@router.post(
    "/api/v1/ingest",
    dependencies=[Depends(require("ingest"))],
    openapi_extra=_REQUEST_DOC,
    summary="Ingest a batch of records",
    response_model=IngestAnswer,
    responses=errors(400, 413),
)
async def ingest(request: Request) -> Response:
    """Validate each record; store the valid ones durably; report the invalid ones.

    Re-sending a ``batch_id`` is a no-op that answers ``"duplicate": true``; a record whose
    natural key is stored already is counted in ``already_stored`` and not written again.
    """
    app = state(request)
    started = time.perf_counter()
    try:
        body = await read_body(request, app.settings.max_body_bytes)
        payload = parse_json(body)
        admit = app.admit if app.admissions else None
        validated = await run_in_threadpool(
            partial(
                validate_envelope,
                times=TimeBounds.of(app.settings),
                check_values=may_be_unstorable(body),
                admit=admit,
            ),
            payload,
            app.clock(),
        )
    except BadRequest:
        app.metrics.batches.labels("invalid").inc()
        raise
    try:
        result = await run_in_threadpool(app.store.write_batch, validated.batch)
    except StoreError:
        app.metrics.batches.labels("failed").inc()
        app.metrics.store_errors.inc()
        raise
    app.metrics.ingest_seconds.observe(time.perf_counter() - started)
    if result.duplicate:
        app.metrics.batches.labels("duplicate").inc()
    else:
        app.metrics.batches.labels("stored").inc()
        for kind, n in validated.accepted_by_kind.items():
            app.metrics.records.labels(kind, "accepted").inc(n)
        # Unknown kinds come from clients: label them "unknown" to keep cardinality bounded.
        bad = Counter(
            kind if kind in RECORD_KINDS else "unknown"
            for _, kind in {(e.index, e.kind) for e in validated.errors}
        )
        bad.subtract(validated.over_limit_by_kind)
        for kind, n in bad.items():
            if n > 0:
                app.metrics.records.labels(kind, "rejected").inc(n)
        for kind, n in validated.over_limit_by_kind.items():
            app.metrics.records.labels(kind, "over_limit").inc(n)
    accepted = sum(validated.accepted_by_kind.values())
    # The hot path: answered as is, IngestAnswer documents it (tests hold the two together).
    return json_answer(
        {
            "batch_id": validated.batch.batch_id,
            "duplicate": result.duplicate,
            "accepted": 0 if result.duplicate else accepted,
            "rejected": validated.batch.rejected,
            "stored": result.inserted,
            "already_stored": result.already_stored,
            "errors": [e.as_dict() for e in validated.errors[:1000]],
        }
    )
