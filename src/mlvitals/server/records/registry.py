"""The registry of record kinds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A kind of record: its wire model, its table and how a record becomes a row."""

    name: str
    model: type[BaseModel]
    table: str
    to_row: Callable[[Any], dict[str, Any]]


RECORD_KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> RecordKind:
    if kind.name in RECORD_KINDS:
        raise ValueError(f"record kind {kind.name!r} is registered twice")
    RECORD_KINDS[kind.name] = kind
    return kind
