"""The dashboard's Alerts page: current alerts, rules with their health, silences, recent
state changes and notification deliveries, all from :func:`alerts_overview`.

Changes (silences, acknowledgements) go through the API and ``mlvitals alerts``; the page
shows how.

``/alerts?id=ALERT_ID`` shows only that alert (current, or from the history) and
``/alerts?rule=NAME`` only that rule's alerts; the chosen alerts are highlighted. Each alert
links to the page of what it is about (:mod:`mlvitals.alerts.links`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.durations import format_duration
from mlvitals.server.alerts.persistence import load_history
from mlvitals.server.alerts.queries import alerts_overview
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.deps import AppState
from mlvitals.server.web.render import page
from mlvitals.server.web.timeline import BEFORE_ALERT, what_changed

router: APIRouter = APIRouter(include_in_schema=False)

HISTORY = 30
_LABELS_HIDDEN = ("alertname", "severity")


def _labels(labels: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(labels.items()) if k not in _LABELS_HIDDEN]


def _chosen(item: dict[str, Any], alert_id: str | None, rule: str | None) -> bool:
    return (alert_id is None or item["id"] == alert_id) and (rule is None or item["rule"] == rule)


def _started(alerts: list[dict[str, Any]], history: list[dict[str, Any]]) -> float | None:
    """When the chosen alert started: its current state's, else its earliest history."""
    if alerts:
        return float(alerts[0]["active_at"])
    return min((float(h["time"]) for h in history), default=None)


def load_alerts_page(
    app: AppState, alert_id: str | None = None, rule: str | None = None
) -> dict[str, Any]:
    """The page's context; with ``alert_id`` or ``rule`` only the alerts they choose."""
    ruleset = rules_source(app.settings.rules_file)()
    now = app.clock()
    overview = alerts_overview(app.store, ruleset, now, history=HISTORY)
    if alert_id is not None or rule is not None:
        overview["alerts"] = [a for a in overview["alerts"] if _chosen(a, alert_id, rule)]
        past = (
            load_history(app.store, alert_id=alert_id, limit=HISTORY)
            if alert_id is not None
            else overview["history"]
        )
        overview["history"] = [h for h in past if _chosen(h, alert_id, rule)]
    started = _started(overview["alerts"], overview["history"]) if alert_id else None
    changes = (
        what_changed(app.store, started - BEFORE_ALERT, started + 1.0)
        if started is not None
        else None
    )
    for a in overview["alerts"]:
        a["label_list"] = _labels(a["labels"])
    for h in overview["history"]:
        h["label_list"] = _labels(h["labels"])
    for r in overview["rules"]:
        r["for_text"] = format_duration(r["for"]) if r["for"] else "at once"
    return {
        "title": "Alerts",
        "chosen_id": alert_id,
        "chosen_rule": rule,
        "started": started,
        "changes": changes,
        "source": ruleset.source,
        "interval": app.settings.alert_interval,
        "receivers": sorted(ruleset.receivers),
        **overview,
        "deliveries": overview["deliveries"][:20],
    }


@router.get("/alerts", name="alerts")
async def alerts_page(request: Request) -> Response:
    alert_id = request.query_params.get("id") or None
    rule = request.query_params.get("rule") or None
    return await page(request, "alerts.html", lambda app: load_alerts_page(app, alert_id, rule))
