"""Alert states and transitions: the values evaluation produces and the store keeps.

An *alert* is one label set of one rule; an *episode* (``alert_id``) runs from the moment
its condition starts holding until it is resolved (or drops back before firing). A later
episode of the same label set gets a new id, so acknowledgements and history stay apart.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PENDING, FIRING, RESOLVED, INACTIVE = "pending", "firing", "resolved", "inactive"
# Resolved alerts are kept this long, so receivers learn of the resolution and the
# dashboard shows what just ended; history keeps them for good.
RESOLVED_RETENTION = 15 * 60.0


@dataclass(frozen=True, slots=True)
class Sample:
    """What a signal returns: labels and a value; ``holds`` overrides the rule's comparison
    (for conditions that are not one threshold), ``info`` adds template fields that are not
    labels (e.g. the failed run's id)."""

    labels: Mapping[str, str]
    value: float
    holds: bool | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def episode_id(rule: str, fingerprint: str, active_at: float) -> str:
    """A stable id for one episode of an alert."""
    raw = f"{rule}\x00{fingerprint}\x00{active_at!r}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class AlertState:
    rule: str
    fingerprint: str
    alert_id: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: str
    active_at: float
    last_true_at: float
    value: float
    updated_at: float
    fired_at: float | None = None
    resolved_at: float | None = None
    keep_firing_since: float | None = None
    link: str = ""
    """The dashboard path of what the alert is about (:mod:`mlvitals.alerts.links`)."""

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.alert_id,
            "rule": self.rule,
            "fingerprint": self.fingerprint,
            "state": self.state,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "value": _json_number(self.value),
            "active_at": self.active_at,
            "fired_at": self.fired_at,
            "resolved_at": self.resolved_at,
            "last_true_at": self.last_true_at,
            "keep_firing_since": self.keep_firing_since,
            "updated_at": self.updated_at,
            "link": self.link,
        }


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of state; ``from_state`` is ``inactive`` for a new episode and
    ``to_state`` is ``inactive`` when a pending alert drops back."""

    rule: str
    fingerprint: str
    alert_id: str
    labels: Mapping[str, str]
    from_state: str
    to_state: str
    time: float
    value: float
    link: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "fingerprint": self.fingerprint,
            "id": self.alert_id,
            "labels": dict(self.labels),
            "from": self.from_state,
            "to": self.to_state,
            "time": self.time,
            "value": _json_number(self.value),
            "link": self.link,
        }
