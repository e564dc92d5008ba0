"""Validating an ingest envelope record by record.

Valid records become table rows; invalid ones are reported with their index, field and
reason, and never take valid ones with them. Besides its kind's model, every record is held
to what both stores can take (:mod:`.record_values`) and to times near the server's clock
(:class:`TimeBounds`), so that no record can fail the batch in the store.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mlvitals.durations import format_duration
from mlvitals.errors import BadRequest
from mlvitals.server import areas  # a module: the pipelines area imports this one
from mlvitals.server.record_values import row_problem, unstorable
from mlvitals.server.web.formatting import to_datetime
from mlvitals.settings import Settings
from mlvitals.store import Batch

MAX_RECORDS = 100_000

Admit = Callable[[str, Mapping[str, Any]], tuple[str, str] | None]
"""Asked for each valid record with its kind and row: ``None`` admits it, ``(field, reason)``
rejects it (a limit of the server, e.g. too many series). Areas own their limits; the
envelope only asks."""


@dataclass(frozen=True, slots=True)
class TimeBounds:
    """The record times a server accepts: ``[now - max_age, now + max_ahead]``.

    >>> TimeBounds(max_age=86400.0, max_ahead=60.0).problem(0.0, now=200_000.0)
    'time 0 (1970-01-01) is more than 1d before the server clock (--max-record-age)'
    """

    max_age: float = Settings().max_record_age
    max_ahead: float = Settings().max_record_ahead

    @classmethod
    def of(cls, settings: Settings) -> TimeBounds:
        return cls(settings.max_record_age, settings.max_record_ahead)

    def problem(self, when: float, *, now: float) -> str | None:
        """Why ``when`` is refused, or None."""
        if when < now - self.max_age:
            return (
                f"time {when:.10g} ({_date(when)}) is more than "
                f"{format_duration(self.max_age)} before the server clock (--max-record-age)"
            )
        if when > now + self.max_ahead:
            return (
                f"time {when:.10g} ({_date(when)}) is more than "
                f"{format_duration(self.max_ahead)} ahead of the server clock "
                "(--max-record-ahead)"
            )
        return None


def _date(when: float) -> str:
    moment = to_datetime(when)
    return "out of the calendar" if moment is None else moment.date().isoformat()


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
    over_limit_by_kind: dict[str, int] = field(default_factory=dict)
    """Valid records that ``admit`` rejected, by kind (also listed in ``errors``)."""


def validate_envelope(
    payload: Any,
    received_at: float,
    *,
    times: TimeBounds | None = None,
    check_values: bool = True,
    admit: Admit | None = None,
) -> Validated:
    """Check the envelope, then each record; raise :class:`BadRequest` only for the envelope.

    ``times`` bounds record times around ``received_at`` (default: :class:`TimeBounds`).
    ``check_values`` false skips looking for unstorable values (NUL, lone surrogates,
    integers past 64 bits): the caller knows the body holds none
    (:func:`~mlvitals.server.record_values.may_be_unstorable`).
    ``admit``, when given, is asked about every valid record and may reject it with a reason.

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

    bounds = TimeBounds() if times is None else times
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    accepted: dict[str, int] = defaultdict(int)
    errors: list[RecordError] = []
    over_limit: dict[str, int] = defaultdict(int)
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
        if check_values:
            found = unstorable(record)
            if found is not None:
                errors.append(RecordError(index, spec.name, *found))
                continue
        row = spec.fast_row(record) if spec.fast_row is not None else None
        extra_rows: Mapping[str, list[dict[str, Any]]] = {}
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
                extra_rows = spec.extra_rows(model)
            # What a model let through from free-form JSON (a profile's row count) is
            # checked where it meets a column; a fast path bounds its values itself.
            bad = next(
                filter(None, map(row_problem, [row, *(r for t in extra_rows.values() for r in t)])),
                None,
            )
            if bad is not None:
                errors.append(RecordError(index, spec.name, *bad))
                continue
        late = _time_error(index, spec.name, row, spec.times, bounds, received_at)
        if late is not None:
            errors.append(late)
            continue
        if admit is not None:
            refused = admit(spec.name, row)
            if refused is not None:
                errors.append(RecordError(index, spec.name, *refused))
                over_limit[spec.name] += 1
                continue
        for table, extra in extra_rows.items():
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
        dict(over_limit),
    )


def _time_error(
    index: int,
    kind: str,
    row: dict[str, Any],
    columns: tuple[str, ...],
    bounds: TimeBounds,
    now: float,
) -> RecordError | None:
    for column in columns:
        when = row.get(column)
        if when is not None:
            problem = bounds.problem(when, now=now)
            if problem is not None:
                return RecordError(index, kind, column, problem)
    return None
