"""Silences and acknowledgements in the store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from mlvitals.alerts.matchers import Matcher, parse_matcher
from mlvitals.alerts.silences import Silence
from mlvitals.errors import BadRequest, NotFound
from mlvitals.store import Store


def _from_row(r: Mapping[str, Any]) -> Silence:
    matchers = tuple(Matcher.from_dict(m) for m in json.loads(r["matchers"]))
    return Silence(
        r["id"],
        matchers,
        float(r["starts_at"]),
        float(r["ends_at"]),
        r["created_by"],
        r["comment"],
        float(r["created_at"]),
    )


def parse_matchers(texts: Sequence[str]) -> tuple[Matcher, ...]:
    """Matchers from ``name=value`` texts; :class:`BadRequest` names the bad one."""
    if not texts:
        raise BadRequest("a silence needs at least one matcher, e.g. service=fraud")
    out = []
    for text in texts:
        try:
            out.append(parse_matcher(text))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    if all(m.matches({}) for m in out):
        # A silence that matches an alert with no labels would mute everything.
        raise BadRequest("the matchers would silence every alert: add one that requires a label")
    return tuple(out)


def create_silence(
    store: Store,
    matchers: Sequence[Matcher],
    starts_at: float,
    ends_at: float,
    *,
    created_by: str = "",
    comment: str = "",
    now: float,
) -> Silence:
    if not ends_at > starts_at:
        raise BadRequest("a silence must end after it starts")
    if ends_at <= now:
        raise BadRequest("the silence would already be over: give an end in the future")
    silence = Silence(
        uuid.uuid4().hex, tuple(matchers), starts_at, ends_at, created_by, comment, now
    )
    store.insert(
        "alert_silences",
        [
            {
                "id": silence.id,
                "matchers": json.dumps([m.to_dict() for m in matchers]),
                "starts_at": starts_at,
                "ends_at": ends_at,
                "created_by": created_by,
                "comment": comment,
                "created_at": now,
            }
        ],
    )
    return silence


def list_silences(store: Store, *, now: float, include_expired: bool = False) -> list[Silence]:
    where = "" if include_expired else "WHERE ends_at > ?"
    params = () if include_expired else (now,)
    rows = store.fetch(f"SELECT * FROM alert_silences {where} ORDER BY starts_at, id", params)
    return [_from_row(r) for r in rows]


def expire_silence(store: Store, silence_id: str, now: float) -> Silence:
    """End a silence now (kept for the record); :class:`NotFound` if there is none."""
    rows = store.fetch("SELECT * FROM alert_silences WHERE id = ?", (silence_id,))
    if not rows:
        raise NotFound(f"no silence with id {silence_id!r}")
    silence = _from_row(rows[0])
    if silence.ends_at > now:
        store.execute(
            "UPDATE alert_silences SET ends_at = ?, starts_at = ? WHERE id = ?",
            (now, min(silence.starts_at, now), silence_id),
        )
    return _from_row(store.fetch("SELECT * FROM alert_silences WHERE id = ?", (silence_id,))[0])


def acknowledge(
    store: Store, alert_id: str, *, by: str, comment: str, now: float
) -> dict[str, Any]:
    """Acknowledge an alert episode: it stays listed but is no longer re-notified."""
    rows = store.fetch("SELECT state FROM alert_states WHERE alert_id = ?", (alert_id,))
    if not rows:
        raise NotFound(f"no current alert with id {alert_id!r}")
    store.execute(
        "INSERT INTO alert_acks (alert_id, acked_at, acked_by, comment) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (alert_id) DO UPDATE SET acked_at = excluded.acked_at,"
        " acked_by = excluded.acked_by, comment = excluded.comment",
        (alert_id, now, by, comment),
    )
    return {"id": alert_id, "acked_at": now, "acked_by": by, "comment": comment}


def load_acks(store: Store) -> dict[str, dict[str, Any]]:
    return {
        r["alert_id"]: {
            "acked_at": float(r["acked_at"]),
            "acked_by": r["acked_by"],
            "comment": r["comment"],
        }
        for r in store.fetch("SELECT * FROM alert_acks")
    }


def prune_acks(store: Store) -> None:
    """Forget acknowledgements of episodes that are no longer current."""
    store.execute(
        "DELETE FROM alert_acks WHERE alert_id NOT IN (SELECT alert_id FROM alert_states)"
    )
