"""The areas of the server, and what is collected from them.

Adding an area is its own package plus one line in ``AREAS``.

>>> [area.name for area in AREAS]
['serving', 'quality', 'pipelines', 'cost', 'alerts']
>>> sorted(RECORD_KINDS)[:3]
['check_result', 'dataset', 'dataset_profile']
"""

from __future__ import annotations

from mlvitals.server.alerts.area import AREA as ALERTS
from mlvitals.server.alerts.signal import Signal
from mlvitals.server.area import Area
from mlvitals.server.cost.area import AREA as COST
from mlvitals.server.pipelines.area import AREA as PIPELINES
from mlvitals.server.quality.area import AREA as QUALITY
from mlvitals.server.record_kinds import RecordKind
from mlvitals.server.serving.area import AREA as SERVING
from mlvitals.store.migrations import Migration

AREAS: tuple[Area, ...] = (SERVING, QUALITY, PIPELINES, COST, ALERTS)


def _unique(kind: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise RuntimeError(f"two areas register the {kind} {name!r}")
        seen.add(name)


_unique("record kind", [k.name for a in AREAS for k in a.record_kinds])
_unique("signal", [s for a in AREAS for s in a.signals])

RECORD_KINDS: dict[str, RecordKind] = {k.name: k for a in AREAS for k in a.record_kinds}
MIGRATIONS: tuple[Migration, ...] = tuple(m for a in AREAS for m in a.migrations)
SIGNALS: dict[str, Signal] = {name: s for a in AREAS for name, s in a.signals.items()}

__all__ = ["AREAS", "MIGRATIONS", "RECORD_KINDS", "SIGNALS"]
