"""Silences: label matchers and a time range during which matching alerts are not notified.

A silenced alert is still evaluated and shown (marked silenced); only notifications stop.
When a silence ends while its alerts still fire, they are notified as new.

>>> from mlvitals.alerts.matchers import parse_matcher
>>> s = Silence("s1", (parse_matcher("service=fraud"),), starts_at=0.0, ends_at=7200.0)
>>> (s.active(10.0), s.silences({"service": "fraud", "alertname": "X"}, 10.0))
(True, True)
>>> s.silences({"service": "fraud"}, 7200.0)
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlvitals.alerts.labels import Labels
from mlvitals.alerts.matchers import Matcher, matches_all


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str = ""
    comment: str = ""
    created_at: float = 0.0

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def status(self, now: float) -> str:
        """``pending``, ``active`` or ``expired``, as Alertmanager says."""
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def silences(self, labels: Labels, now: float) -> bool:
        return self.active(now) and matches_all(self.matchers, labels)

    def to_dict(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": [str(m) for m in self.matchers],
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "created_by": self.created_by,
            "comment": self.comment,
            "created_at": self.created_at,
            "status": self.status(now),
        }


def silenced_by(labels: Mapping[str, str], silences: Iterable[Silence], now: float) -> list[str]:
    """Ids of the silences that mute an alert with ``labels`` at ``now``."""
    return [s.id for s in silences if s.silences(labels, now)]
