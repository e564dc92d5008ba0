"""Validating an ingest envelope record by record.

Valid records become table rows; invalid ones are reported with their index, field and
reason, and never take valid ones with them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mlvitals.errors import BadRequest
from mlvitals.server import areas  # a module: the pipelines area imports this one
from mlvitals.store import Batch

MAX_RECORDS = 100_000


@dataclass(frozen=True, slots=True)
class RecordError:
    index: int
    kind: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "field": self.field, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Validated:
    batch: Batch
    accepted_by_kind: dict[str, int] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)


def validate_envelope(payload: Any, received_at: float) -> Validated:
    """Check the envelope, then each record; raise :class:`BadRequest` only for the envelope.

    >>> v = validate_envelope(
    ...     {"batch_id": "6f1c8a7e-8f5e-4d58-9a43-6f3c3b0a5e11", "records": [{"kind": "x"}]},
    ...     0.0,
    ... )
    >>> v.errors[0].reason
    "unknown record kind 'x'"
    """
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object with 'batch_id' and 'records'")
    extra = sorted(set(payload) - {"batch_id", "records"})
    if extra:
        raise BadRequest(f"unknown envelope field(s): {', '.join(extra)}")
    batch_id = payload.get("batch_id")
    if not isinstance(batch_id, str):
        raise BadRequest("'batch_id' is required: a UUID string, unique per batch")
    try:
        batch_id = str(uuid.UUID(batch_id))
    except ValueError:
        raise BadRequest(f"'batch_id' is not a UUID: {batch_id[:64]!r}") from None
    records = payload.get("records")
    if not isinstance(records, list):
        raise BadRequest("'records' is required: a list of records, each with a 'kind'")
    if len(records) > MAX_RECORDS:
        raise BadRequest(f"{len(records)} records in one batch; send at most {MAX_RECORDS}")

    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    accepted: dict[str, int] = defaultdict(int)
    errors: list[RecordError] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            errors.append(RecordError(index, None, "", "a record must be a JSON object"))
            continue
        kind_name = record.get("kind")
        spec = areas.RECORD_KINDS.get(kind_name) if isinstance(kind_name, str) else None
        if spec is None:
            reason = "missing 'kind'" if kind_name is None else f"unknown record kind {kind_name!r}"
            name = kind_name if isinstance(kind_name, str) else None
            errors.append(RecordError(index, name, "kind", reason))
            continue
        row = spec.fast_row(record) if spec.fast_row is not None else None
        if row is None:
            try:
                model = spec.model.model_validate(record)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    loc = ".".join(str(p) for p in err["loc"])
                    errors.append(RecordError(index, spec.name, loc, err["msg"]))
                continue
            row = spec.to_row(model)
            if spec.extra_rows is not None:
                for table, extra in spec.extra_rows(model).items():
                    rows[table].extend({**r, "batch_id": batch_id} for r in extra)
        row["batch_id"] = batch_id
        rows[spec.table].append(row)
        accepted[spec.name] += 1
    derived: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in accepted:
        spec = areas.RECORD_KINDS[name]
        if spec.derived_rows is not None:
            for table, extra in spec.derived_rows(rows[spec.table]).items():
                derived[table].extend(extra)
    return Validated(
        Batch(
            batch_id,
            received_at,
            dict(rows),
            rejected=len(records) - sum(accepted.values()),
            derived=dict(derived),
        ),
        dict(accepted),
        errors,
    )
