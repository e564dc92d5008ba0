"""Alert states and their history in the store, so a restart neither loses nor repeats.

Each evaluation writes every alert of every evaluated rule (one upsert batch), deletes those
that dropped out, and appends the transitions to the history.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from mlvitals.alerts.links import object_path
from mlvitals.alerts.state import AlertState, Transition
from mlvitals.store import Store

States = dict[str, dict[str, AlertState]]  # rule -> fingerprint -> state

_COLUMNS = (
    "rule",
    "fingerprint",
    "alert_id",
    "labels",
    "annotations",
    "state",
    "active_at",
    "fired_at",
    "resolved_at",
    "last_true_at",
    "keep_firing_since",
    "value",
    "updated_at",
    "link",
)
_UPSERT = (
    f"INSERT INTO alert_states ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
    " ON CONFLICT (rule, fingerprint) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[2:])
)


def _json(mapping: Mapping[str, Any]) -> str:
    return json.dumps(dict(mapping), sort_keys=True, separators=(",", ":"))


def _finite(value: float) -> float | None:
    # NaN and infinities are not portable column values.
    return value if value == value and abs(value) != float("inf") else None


def state_from_row(row: Mapping[str, Any]) -> AlertState:
    return AlertState(
        rule=row["rule"],
        fingerprint=row["fingerprint"],
        alert_id=row["alert_id"],
        labels=json.loads(row["labels"]),
        annotations=json.loads(row["annotations"]),
        state=row["state"],
        active_at=float(row["active_at"]),
        last_true_at=float(row["last_true_at"]),
        value=float(row["value"]) if row["value"] is not None else float("nan"),
        updated_at=float(row["updated_at"]),
        fired_at=row["fired_at"],
        resolved_at=row["resolved_at"],
        keep_firing_since=row["keep_firing_since"],
        link=row["link"] or "",
    )


def load_states(store: Store) -> States:
    out: States = defaultdict(dict)
    for row in store.fetch("SELECT * FROM alert_states"):
        state = state_from_row(row)
        out[state.rule][state.fingerprint] = state
    return dict(out)


def _row(s: AlertState) -> tuple[Any, ...]:
    return (
        s.rule,
        s.fingerprint,
        s.alert_id,
        _json(s.labels),
        _json(s.annotations),
        s.state,
        s.active_at,
        s.fired_at,
        s.resolved_at,
        s.last_true_at,
        s.keep_firing_since,
        _finite(s.value),
        s.updated_at,
        s.link,
    )


def save_states(
    store: Store, previous: States, current: States, transitions: Iterable[Transition]
) -> None:
    """Write ``current`` for every rule in it; delete alerts of those rules that are gone."""
    rows = [_row(s) for states in current.values() for s in states.values()]
    if rows:
        store.execute_many(_UPSERT, rows)
    gone = [
        (rule, fp)
        for rule, states in current.items()
        for fp in previous.get(rule, {})
        if fp not in states
    ]
    if gone:
        store.execute_many("DELETE FROM alert_states WHERE rule = ? AND fingerprint = ?", gone)
    history = [
        {
            "alert_id": t.alert_id,
            "to_state": t.to_state,
            "time": t.time,
            "from_state": t.from_state,
            "rule": t.rule,
            "fingerprint": t.fingerprint,
            "labels": _json(t.labels),
            "value": _finite(t.value),
            "link": t.link,
        }
        for t in transitions
    ]
    if history:
        store.insert("alert_transitions", history)


def load_history(
    store: Store, *, since: float | None = None, limit: int = 200, alert_id: str | None = None
) -> list[dict[str, Any]]:
    """Transitions, newest first."""
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("time >= ?")
        params.append(since)
    if alert_id is not None:
        clauses.append("alert_id = ?")
        params.append(alert_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.fetch(
        f"SELECT * FROM alert_transitions {where} ORDER BY time DESC, alert_id LIMIT ?",
        (*params, limit),
    )
    return [
        {
            "id": r["alert_id"],
            "rule": r["rule"],
            "fingerprint": r["fingerprint"],
            "labels": json.loads(r["labels"]),
            "from": r["from_state"],
            "to": r["to_state"],
            "time": float(r["time"]),
            "value": r["value"],
            "link": r["link"] or object_path(None, json.loads(r["labels"])),
        }
        for r in rows
    ]


def save_rule_health(
    store: Store, health: Mapping[str, tuple[float, float, int, str | None]]
) -> None:
    """Per rule: (evaluated at, seconds it took, samples, error or None)."""
    rows = [
        (rule, at, seconds, samples, error)
        for rule, (at, seconds, samples, error) in health.items()
    ]
    if rows:
        store.execute_many(
            "INSERT INTO alert_rule_health (rule, evaluated_at, seconds, samples, error)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule) DO UPDATE SET"
            " evaluated_at = excluded.evaluated_at, seconds = excluded.seconds,"
            " samples = excluded.samples, error = excluded.error",
            rows,
        )


def load_rule_health(store: Store) -> dict[str, dict[str, Any]]:
    return {
        r["rule"]: {
            "evaluated_at": float(r["evaluated_at"]),
            "seconds": float(r["seconds"]),
            "samples": int(r["samples"]),
            "error": r["error"],
        }
        for r in store.fetch("SELECT * FROM alert_rule_health")
    }
