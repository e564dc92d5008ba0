"""What an area of the server contributes: record kinds, migrations, routes and signals.

Each area package (``serving``, ``quality``, ``pipelines``, ``cost``, ``alerts``) describes
itself in its ``area.py`` as one :class:`Area`; :mod:`mlvitals.server.areas` lists them, and
the app, the store and the alert evaluator collect what they need from that list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import APIRouter
from prometheus_client.registry import Collector

from mlvitals.server.alerts.signal import Signal
from mlvitals.server.record_kinds import RecordKind
from mlvitals.settings import Settings
from mlvitals.store import Store
from mlvitals.store.migrations import Migration

Export = Callable[[Store, Settings, Callable[[], float]], Collector]
"""Builds an area's Prometheus collector for the server's ``/metrics`` from the store, the
settings and the clock (``server/<area>/exports.py``)."""

Exposition = Callable[[Store, Settings, Callable[[], float]], Callable[[], bytes]]
"""Builds a function that writes an area's ``/metrics`` text directly, for exports too big
for a collector's per-sample objects (the serving fleet)."""


class Admission(Protocol):
    """An area's limits on what ingest stores (``server/<area>/cardinality.py``)."""

    def admit(self, kind: str, row: Mapping[str, Any]) -> tuple[str, str] | None:
        """``None`` admits a valid record's row, ``(field, reason)`` rejects it."""
        ...

    def usage(self) -> list[dict[str, Any]]:
        """Each limit: ``{"limit", "used", "max", "rejected"}``, for the summary."""
        ...


MakeAdmission = Callable[[Store, Settings, Callable[[], float]], Admission]
"""Builds an area's admission from the store, the settings and the clock."""


@dataclass(frozen=True, slots=True)
class Area:
    """One area of the server.

    ``api`` routers answer JSON under ``/api/v1``; ``pages`` routers answer the dashboard's
    HTML pages; ``signals`` maps a rule kind to the function that reads its data;
    ``exports`` build its collectors of the server's ``/metrics`` and ``expositions`` the
    functions that write the rest of its ``/metrics`` text; ``admissions`` build its limits
    on ingested records.
    """

    name: str
    record_kinds: tuple[RecordKind, ...] = ()
    migrations: tuple[Migration, ...] = ()
    api: tuple[APIRouter, ...] = ()
    pages: tuple[APIRouter, ...] = ()
    signals: Mapping[str, Signal] = field(default_factory=dict)
    exports: tuple[Export, ...] = ()
    expositions: tuple[Exposition, ...] = ()
    admissions: tuple[MakeAdmission, ...] = ()
