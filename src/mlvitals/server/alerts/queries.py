"""What the API, the CLI and the dashboard show about alerts: one place for all three.

>>> from mlvitals.alerts.config import default_rules
>>> from mlvitals.server.database import open_database
>>> store = open_database(":memory:")
>>> overview = alerts_overview(store, default_rules(), now=0.0)
>>> sorted(overview)
['alerts', 'counts', 'deliveries', 'history', 'rules', 'silences']
>>> store.close()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from mlvitals.alerts.config import RuleSet
from mlvitals.alerts.links import alert_path, object_path
from mlvitals.alerts.rules import Rule
from mlvitals.alerts.silences import silenced_by
from mlvitals.alerts.state import FIRING, PENDING, RESOLVED
from mlvitals.server.alerts.notify_log import load_deliveries
from mlvitals.server.alerts.persistence import load_history, load_rule_health, load_states
from mlvitals.server.alerts.silencing import list_silences, load_acks
from mlvitals.store import Store

_ORDER = {FIRING: 0, PENDING: 1, RESOLVED: 2}
_SEVERITY = {"critical": 0, "warning": 1, "info": 2}


def current_alerts(store: Store, now: float, state: str | None = None) -> list[dict[str, Any]]:
    """Current alerts (firing, pending, recently resolved), worst first, each with the
    silences that mute it and its acknowledgement."""
    silences = list_silences(store, now=now)
    acks = load_acks(store)
    out = []
    for by_fp in load_states(store).values():
        for s in by_fp.values():
            if state is not None and s.state != state:
                continue
            item = s.to_dict()
            item["silenced_by"] = silenced_by(s.labels, silences, now)
            item["ack"] = acks.get(s.alert_id)
            item["link"] = s.link or object_path(None, s.labels)
            item["alert_url"] = alert_path(s.alert_id)
            out.append(item)
    out.sort(
        key=lambda a: (
            _ORDER.get(a["state"], 3),
            _SEVERITY.get(a["labels"].get("severity", ""), 3),
            -(a["fired_at"] or a["active_at"]),
            a["rule"],
            a["fingerprint"],
        )
    )
    return out


def _rule_dict(rule: Rule) -> dict[str, Any]:
    spec = {k: v for k, v in asdict(rule.spec).items() if k != "kind"}
    return {
        "name": rule.name,
        "kind": rule.kind,
        "severity": rule.severity,
        "for": rule.for_,
        "keep_firing_for": rule.keep_firing_for,
        "labels": dict(rule.labels),
        "annotations": dict(rule.annotations),
        "spec": spec,
    }


def rules_overview(store: Store, ruleset: RuleSet) -> list[dict[str, Any]]:
    """Each rule with its settings, its alerts by state and its last evaluation."""
    states = load_states(store)
    health = load_rule_health(store)
    out = []
    for rule in ruleset.rules:
        counts = {PENDING: 0, FIRING: 0, RESOLVED: 0}
        for s in states.get(rule.name, {}).values():
            counts[s.state] = counts.get(s.state, 0) + 1
        out.append(_rule_dict(rule) | {"alerts": counts, "health": health.get(rule.name)})
    return out


def alerts_overview(
    store: Store, ruleset: RuleSet, now: float, *, history: int = 100
) -> dict[str, Any]:
    """Everything an alerts page shows: current alerts, counts, recent history, rules,
    silences and recent deliveries."""
    alerts = current_alerts(store, now)
    counts = {PENDING: 0, FIRING: 0, RESOLVED: 0, "silenced": 0}
    for a in alerts:
        counts[a["state"]] += 1
        counts["silenced"] += bool(a["silenced_by"]) and a["state"] == FIRING
    return {
        "alerts": alerts,
        "counts": counts,
        "history": load_history(store, limit=history),
        "rules": rules_overview(store, ruleset),
        "silences": [s.to_dict(now) for s in list_silences(store, now=now)],
        "deliveries": load_deliveries(store, limit=50),
    }


RECENT = 86400.0
"""Object pages list the alerts about them that are current or ended within a day."""


def _about(
    item: Mapping[str, Any],
    labels: Mapping[str, str] | None,
    link: str | None,
    has: str | None,
) -> bool:
    if labels is not None and any(item["labels"].get(k) != v for k, v in labels.items()):
        return False
    if link is not None and (item.get("link") or "").split("?", 1)[0] != link:
        return False
    return has is None or has in item["labels"]


def alerts_about(
    store: Store,
    now: float,
    *,
    labels: Mapping[str, str] | None = None,
    link: str | None = None,
    has: str | None = None,
) -> list[dict[str, Any]]:
    """The alerts about one object, worst and newest first: the current ones (firing,
    pending, just resolved), then those that fired within :data:`RECENT` and have ended.

    An alert is about the object when its labels hold ``labels``, its link's path is
    ``link`` and it has a label named ``has`` (each when given).
    """
    out = [a for a in current_alerts(store, now) if _about(a, labels, link, has)]
    seen = {a["id"] for a in out}
    ended: dict[str, dict[str, Any]] = {}
    for h in load_history(store, since=now - RECENT, limit=2000):
        if h["id"] in seen or not _about(h, labels, link, has):
            continue
        entry = ended.setdefault(
            h["id"],
            {
                "id": h["id"],
                "rule": h["rule"],
                "state": RESOLVED,
                "labels": h["labels"],
                "annotations": {
                    "summary": ", ".join(
                        f"{k}={v}"
                        for k, v in sorted(h["labels"].items())
                        if k not in ("alertname", "severity")
                    )
                },
                "link": h["link"],
                "alert_url": alert_path(h["id"]),
                "active_at": h["time"],
                "fired_at": None,
                "resolved_at": None,
            },
        )
        # History is newest first: the last one seen of an episode is its start.
        entry["active_at"] = h["time"]
        if h["to"] == FIRING:
            entry["fired_at"] = h["time"]
        if h["to"] == RESOLVED and entry["resolved_at"] is None:
            entry["resolved_at"] = h["time"]
    out += [e for e in ended.values() if e["fired_at"] is not None and e["resolved_at"]]
    return out
