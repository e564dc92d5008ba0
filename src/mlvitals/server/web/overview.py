"""The overview page, health first: is the ML system healthy, and if not, what is wrong.

At the top the firing alerts by severity, each with the object it is about and since when;
then the services, pipelines, datasets and budgets that are not healthy, each linking to its
page; then how many are healthy. An empty server says how to start. What the store holds
and how fast records arrive is on the Server page (:mod:`mlvitals.server.web.server_page`).

>>> by_severity([{"labels": {"severity": "warning"}}, {"labels": {"severity": "critical"}}])
[('critical', 1), ('warning', 1)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from mlvitals.errors import HTTPError
from mlvitals.server.alerts.queries import current_alerts
from mlvitals.server.cost import pages as cost_page
from mlvitals.server.deps import AppState
from mlvitals.server.pipelines.queries import list_pipelines
from mlvitals.server.pipelines.view import pipeline_path
from mlvitals.server.quality.queries import list_datasets
from mlvitals.server.quality.view import dataset_path
from mlvitals.server.serving.pages import service_path
from mlvitals.server.serving.queries import services_health

SEVERITIES = ("critical", "warning", "info")
_PIPELINE_TROUBLE = {
    "failed": "last run failed",
    "missed": "missed a scheduled run",
    "late": "started late",
    "overdue": "a run is overdue",
}

SDK_EXAMPLE = """\
from mlvitals import Monitor
monitor = Monitor("my-model", server="{base}")
predict = monitor.track("predict")(predict)  # every call of predict() is now recorded"""


def by_severity(alerts: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """How many alerts of each severity, worst first (unknown severities last)."""
    counts: dict[str, int] = {}
    for a in alerts:
        severity = a["labels"].get("severity", "")
        counts[severity] = counts.get(severity, 0) + 1
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def _attention(
    app: AppState, now: float, cost: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, int], bool, dict[str, int] | None]:
    """Objects that are not healthy, the healthy count per kind, whether anything is
    recorded at all, and the pipelines' counts by health."""
    store = app.store
    bad: list[dict[str, Any]] = []
    healthy = {"services": 0, "pipelines": 0, "datasets": 0, "budgets": 0}
    services = services_health(store, now, down_after=app.settings.down_after)
    for s in services:
        if not s["up"]:
            bad.append(_item("service", s["service"], service_path(s["service"]), "down"))
        elif s["instances_up"] < s["instances"]:
            down = s["instances"] - s["instances_up"]
            what = f"{down} of {s['instances']} instances down"
            bad.append(_item("service", s["service"], service_path(s["service"]), what))
        else:
            healthy["services"] += 1
    pipelines = list_pipelines(store, now)
    for p in pipelines:
        trouble = _PIPELINE_TROUBLE.get(p["health"])
        if trouble:
            bad.append(_item("pipeline", p["pipeline"], pipeline_path(p["pipeline"]), trouble))
        else:
            healthy["pipelines"] += 1
    datasets = list_datasets(store)
    for d in datasets:
        if d["status"] == "failed":
            bad.append(_item("dataset", d["dataset"], dataset_path(d["dataset"]), "check failed"))
        else:
            healthy["datasets"] += 1
    for b in cost["states"] if cost else []:
        if b["state"] == "within":
            healthy["budgets"] += 1
        else:
            url = "/cost?" + urlencode({"budget": b["name"]}, quote_via=quote)
            bad.append(_item("budget", b["name"], url, b["state_text"]))
    anything = bool(services or pipelines or datasets)
    health = [p["health"] for p in pipelines]
    glance = {
        "pipelines": len(pipelines),
        "failing": health.count("failed"),
        "behind": health.count("late") + health.count("missed"),
        "overdue": health.count("overdue"),
    }
    return bad, healthy, anything, glance if pipelines else None


def _item(kind: str, name: str, url: str, state: str) -> dict[str, Any]:
    return {"kind": kind, "name": name, "url": url, "state": state}


def _cost_glance(app: AppState) -> dict[str, Any] | None:
    """The month's cost and budgets, or ``None`` when the rate card or budgets file cannot
    be read (the Cost page says why; the overview still shows everything else)."""
    try:
        return cost_page.glance(app)
    except HTTPError:
        return None


def load_overview(app: AppState, base_url: str) -> dict[str, Any]:
    """The overview template's context."""
    now = app.clock()
    firing = current_alerts(app.store, now, "firing")
    cost = _cost_glance(app)
    attention, healthy, anything, pipelines = _attention(app, now, cost)
    return {
        "title": "Overview",
        "now": now,
        "firing": firing,
        "severities": by_severity(firing),
        "attention": attention,
        "healthy": healthy,
        "empty": not anything and not firing,
        "sdk_example": SDK_EXAMPLE.format(base=base_url.rstrip("/")),
        "tokens_enabled": app.tokens.enabled,
        "pipelines_glance": pipelines,
        "cost_glance": cost,
    }
