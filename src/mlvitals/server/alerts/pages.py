"""The dashboard's Alerts page: current alerts, rules with their health, silences, recent
state changes and notification deliveries, all from :func:`alerts_overview`.

Changes (silences, acknowledgements) go through the API and ``mlvitals alerts``; the page
shows how.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.durations import format_duration
from mlvitals.server.alerts.queries import alerts_overview
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.deps import AppState
from mlvitals.server.web.render import page

router: APIRouter = APIRouter(include_in_schema=False)

HISTORY = 30
_LABELS_HIDDEN = ("alertname", "severity")


def _labels(labels: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(labels.items()) if k not in _LABELS_HIDDEN]


def load_alerts_page(app: AppState) -> dict[str, Any]:
    ruleset = rules_source(app.settings.rules_file)()
    now = app.clock()
    overview = alerts_overview(app.store, ruleset, now, history=HISTORY)
    for a in overview["alerts"]:
        a["label_list"] = _labels(a["labels"])
    for h in overview["history"]:
        h["label_list"] = _labels(h["labels"])
    for r in overview["rules"]:
        r["for_text"] = format_duration(r["for"]) if r["for"] else "at once"
    return {
        "title": "Alerts",
        "source": ruleset.source,
        "interval": app.settings.alert_interval,
        "receivers": sorted(ruleset.receivers),
        **overview,
        "deliveries": overview["deliveries"][:20],
    }


@router.get("/alerts", name="alerts")
async def alerts_page(request: Request) -> Response:
    return await page(request, "alerts.html", load_alerts_page)
