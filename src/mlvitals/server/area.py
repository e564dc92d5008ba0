"""What an area of the server contributes: record kinds, migrations, routes and signals.

Each area package (``serving``, ``quality``, ``pipelines``, ``cost``, ``alerts``) describes
itself in its ``area.py`` as one :class:`Area`; :mod:`mlvitals.server.areas` lists them, and
the app, the store and the alert evaluator collect what they need from that list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter

from mlvitals.server.alerts.signal import Signal
from mlvitals.server.record_kinds import RecordKind
from mlvitals.store.migrations import Migration


@dataclass(frozen=True, slots=True)
class Area:
    """One area of the server.

    ``api`` routers answer JSON under ``/api/v1``; ``pages`` routers answer the dashboard's
    HTML pages; ``signals`` maps a rule kind to the function that reads its data.
    """

    name: str
    record_kinds: tuple[RecordKind, ...] = ()
    migrations: tuple[Migration, ...] = ()
    api: tuple[APIRouter, ...] = ()
    pages: tuple[APIRouter, ...] = ()
    signals: Mapping[str, Signal] = field(default_factory=dict)
