"""The notification log (what each receiver last heard per group) and the delivery log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from mlvitals.alerts.grouping import LogEntry, LogKey, Notification
from mlvitals.alerts.notifiers import Delivery
from mlvitals.store import Store


def load_log(store: Store) -> dict[LogKey, LogEntry]:
    out = {}
    for r in store.fetch("SELECT * FROM alert_notify_log"):
        entry = LogEntry(
            r["receiver"],
            r["integration"],
            r["group_key"],
            float(r["sent_at"]),
            frozenset(json.loads(r["firing"])),
        )
        out[entry.key] = entry
    return out


def apply_entry(store: Store, n: Notification) -> None:
    """Make the log say what ``n`` says the receiver now knows."""
    if n.entry is None:
        store.execute(
            "DELETE FROM alert_notify_log WHERE receiver = ? AND integration = ? AND group_key = ?",
            n.key,
        )
        return
    e = n.entry
    store.execute(
        "INSERT INTO alert_notify_log (receiver, integration, group_key, sent_at, firing)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (receiver, integration, group_key) DO UPDATE SET"
        " sent_at = excluded.sent_at, firing = excluded.firing",
        (e.receiver, e.integration, e.group_key, e.sent_at, json.dumps(sorted(e.firing))),
    )


def record_delivery(
    store: Store, n: Notification, target: str, delivery: Delivery, now: float
) -> None:
    store.insert(
        "alert_deliveries",
        [
            {
                "id": uuid.uuid4().hex,
                "time": now,
                "receiver": n.receiver,
                "integration": n.integration_key,
                "target": target,
                "group_key": n.group_key,
                "status": n.status,
                "alerts": len(n.alerts),
                "ok": int(delivery.ok),
                "attempts": delivery.attempts,
                "http_status": delivery.status,
                "error": delivery.error,
                "seconds": delivery.seconds,
            }
        ],
    )


def load_deliveries(store: Store, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = store.fetch("SELECT * FROM alert_deliveries ORDER BY time DESC, id LIMIT ?", (limit,))
    return [_delivery(r) for r in rows]


def _delivery(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "time": float(r["time"]),
        "receiver": r["receiver"],
        "integration": r["integration"],
        "target": r["target"],
        "group_key": r["group_key"],
        "status": r["status"],
        "alerts": int(r["alerts"]),
        "ok": bool(r["ok"]),
        "attempts": int(r["attempts"]),
        "http_status": r["http_status"],
        "error": r["error"],
        "seconds": float(r["seconds"]),
    }


def prune(store: Store, before: float) -> None:
    """Drop delivery-log and history rows older than ``before``."""
    store.execute("DELETE FROM alert_deliveries WHERE time < ?", (before,))
    store.execute("DELETE FROM alert_transitions WHERE time < ?", (before,))
