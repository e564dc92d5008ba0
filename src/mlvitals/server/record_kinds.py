"""A record kind: what ``POST /api/v1/ingest`` accepts under one ``kind`` name.

Each area lists its kinds in its ``records.py`` (``KINDS``); :mod:`mlvitals.server.areas`
collects them into ``RECORD_KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A kind of record: its wire model, its table and how a record becomes a row.

    ``extra_rows``, when set, maps a record to rows of other tables stored with it (in the
    same transaction), e.g. the per-column rows of a data-quality check.

    ``fast_row``, when set, maps a plainly well-formed record straight to its row without
    the model, and returns None for anything else (see :mod:`.fast`).

    ``times`` names the row's columns (the same names as the record's fields) that hold Unix
    times: the envelope refuses a record whose times are far from the server's clock.
    ``derived_rows``, when set, maps the rows of one batch's records of this kind to rows
    of other tables stored with them but not counted as records (``Batch.derived``), e.g.
    the serving area's marks of the minutes a rollup pass must re-roll.
    """

    name: str
    model: type[BaseModel]
    table: str
    to_row: Callable[[Any], dict[str, Any]]
    extra_rows: Callable[[Any], Mapping[str, list[dict[str, Any]]]] | None = None
    fast_row: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    times: tuple[str, ...] = ()
    derived_rows: (
        Callable[[Sequence[dict[str, Any]]], Mapping[str, list[dict[str, Any]]]] | None
    ) = None
