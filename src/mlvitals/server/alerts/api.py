"""Alerts API: current alerts and their history, rules, silences and acknowledgements.

Reading needs the ``read`` scope; creating or ending silences and acknowledging alerts
needs ``admin``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field

from mlvitals.durations import parse_duration
from mlvitals.errors import BadRequest, NotFound
from mlvitals.server.alerts.notify_log import load_deliveries
from mlvitals.server.alerts.persistence import load_history
from mlvitals.server.alerts.queries import current_alerts, rules_overview
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.alerts.silencing import (
    acknowledge,
    create_silence,
    expire_silence,
    list_silences,
    parse_matchers,
)
from mlvitals.server.deps import require, state
from mlvitals.server.record_values import StorableBody
from mlvitals.server.web.answers import Answer, Number, errors

router: APIRouter = APIRouter(prefix="/api/v1", tags=["alerts"])
READ = [Depends(require("read"))]
ADMIN = [Depends(require("admin"))]


class SilenceIn(StorableBody):
    model_config = ConfigDict(extra="forbid")

    matchers: list[str] = Field(
        min_length=1, description="label matchers: name=value, name!=value, name=~re, name!~re"
    )
    starts_at: float | None = Field(None, description="Unix seconds (default: now)")
    ends_at: float | None = Field(None, description="Unix seconds; or give 'duration'")
    duration: str | None = Field(None, description="e.g. 2h, from starts_at")
    comment: str = Field("", max_length=2000)
    created_by: str = Field("", max_length=200)


class AckIn(StorableBody):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=2000)
    by: str = Field("", max_length=200)


class Ack(Answer):
    acked_at: Number
    acked_by: str
    comment: str


class Acked(Answer):
    id: str
    acked_at: Number
    acked_by: str
    comment: str


class Alert(Answer):
    id: str
    rule: str
    fingerprint: str
    state: str = Field(description="pending, firing or resolved")
    labels: dict[str, str]
    annotations: dict[str, str]
    value: Number | None
    active_at: Number | None
    fired_at: Number | None
    resolved_at: Number | None
    last_true_at: Number | None
    keep_firing_since: Number | None
    updated_at: Number | None
    silenced_by: list[str] = Field(description="ids of the silences that mute it")
    ack: Ack | None
    link: str | None = Field(description="the dashboard page of what the alert is about")
    alert_url: str = Field(description="the alert's own place on the Alerts page")


class AlertList(Answer):
    alerts: list[Alert]


class Change(Answer):
    id: str
    rule: str
    fingerprint: str
    labels: dict[str, str]
    from_: str = Field(alias="from")
    to: str
    time: Number
    value: Number | None
    link: str | None = Field(description="the dashboard page of what the alert is about")


class History(Answer):
    history: list[Change]


class AlertDetail(Answer):
    alert: Alert | None = Field(description="None once the alert is gone (history remains)")
    history: list[Change]


class Delivery(Answer):
    time: Number
    receiver: str
    integration: str
    target: str
    group_key: str
    status: str
    alerts: int
    ok: bool
    attempts: int
    http_status: int | None
    error: str | None
    seconds: Number | None


class Deliveries(Answer):
    deliveries: list[Delivery]


class AlertCounts(Answer):
    pending: int
    firing: int
    resolved: int


class Rule(Answer):
    name: str
    kind: str
    severity: str
    for_: Number = Field(alias="for")
    keep_firing_for: Number
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: dict[str, Any] = Field(description="what the rule of this kind reads and compares")
    alerts: AlertCounts
    health: dict[str, Any] | None = Field(description="its last evaluation: time, error")


class Rules(Answer):
    source: str
    rules: list[Rule]


class Silence(Answer):
    id: str
    matchers: list[str]
    starts_at: Number
    ends_at: Number
    created_by: str
    comment: str
    created_at: Number
    status: str = Field(description="pending, active or expired")


class Silences(Answer):
    silences: list[Silence]


@router.get(
    "/alerts",
    dependencies=READ,
    summary="Current alerts: firing, pending, resolved",
    response_model=AlertList,
    responses=errors(),
)
async def alerts(
    request: Request,
    alert_state: str | None = Query(None, alias="state", pattern="^(pending|firing|resolved)$"),
) -> dict[str, Any]:
    app = state(request)
    items = await run_in_threadpool(current_alerts, app.store, app.clock(), alert_state)
    return {"alerts": items}


@router.get(
    "/alerts/history",
    dependencies=READ,
    summary="State changes of alerts, newest first",
    response_model=History,
    responses=errors(),
)
async def history(
    request: Request,
    since: float | None = Query(None, description="Unix seconds"),
    limit: int = Query(200, ge=1, le=5000),
) -> dict[str, Any]:
    app = state(request)
    items = await run_in_threadpool(lambda: load_history(app.store, since=since, limit=limit))
    return {"history": items}


@router.get(
    "/alerts/deliveries",
    dependencies=READ,
    summary="Notification attempts, newest first",
    response_model=Deliveries,
    responses=errors(),
)
async def deliveries(request: Request, limit: int = Query(100, ge=1, le=5000)) -> dict[str, Any]:
    app = state(request)
    items = await run_in_threadpool(lambda: load_deliveries(app.store, limit=limit))
    return {"deliveries": items}


@router.get(
    "/alerts/{alert_id}",
    dependencies=READ,
    summary="One alert with its history",
    response_model=AlertDetail,
    responses=errors(404),
)
async def alert(request: Request, alert_id: str) -> dict[str, Any]:
    app = state(request)

    def load() -> dict[str, Any] | None:
        found = [a for a in current_alerts(app.store, app.clock()) if a["id"] == alert_id]
        past = load_history(app.store, alert_id=alert_id, limit=1000)
        if not found and not past:
            return None
        return {"alert": found[0] if found else None, "history": past}

    result = await run_in_threadpool(load)
    if result is None:
        raise NotFound(f"no alert with id {alert_id!r}")
    return result


@router.post(
    "/alerts/{alert_id}/ack",
    dependencies=ADMIN,
    summary="Acknowledge an alert",
    response_model=Acked,
    responses=errors(404),
)
async def ack(request: Request, alert_id: str, body: AckIn | None = None) -> dict[str, Any]:
    app = state(request)
    given = body or AckIn()
    return await run_in_threadpool(
        lambda: acknowledge(
            app.store, alert_id, by=given.by, comment=given.comment, now=app.clock()
        )
    )


@router.get(
    "/rules",
    dependencies=READ,
    summary="Alert rules with their alerts and health",
    response_model=Rules,
    responses=errors(500),
)
async def rules(request: Request) -> dict[str, Any]:
    app = state(request)
    ruleset = rules_source(app.settings.rules_file)()
    items = await run_in_threadpool(rules_overview, app.store, ruleset)
    return {"source": ruleset.source, "rules": items}


@router.get(
    "/silences",
    dependencies=READ,
    summary="Silences (active and pending; all with ?expired=true)",
    response_model=Silences,
    responses=errors(),
)
async def silences(request: Request, expired: bool = False) -> dict[str, Any]:
    app = state(request)
    now = app.clock()
    found = await run_in_threadpool(
        lambda: list_silences(app.store, now=now, include_expired=expired)
    )
    return {"silences": [s.to_dict(now) for s in found]}


@router.post(
    "/silences",
    dependencies=ADMIN,
    status_code=201,
    summary="Create a silence",
    response_model=Silence,
    responses=errors(400),
)
async def add_silence(request: Request, body: SilenceIn) -> dict[str, Any]:
    app = state(request)
    now = app.clock()
    matchers = parse_matchers(body.matchers)
    starts = body.starts_at if body.starts_at is not None else now
    if (body.ends_at is None) == (body.duration is None):
        raise BadRequest("give either 'ends_at' or 'duration' (e.g. 2h)")
    if body.duration is not None:
        try:
            ends = starts + parse_duration(body.duration)
        except ValueError as exc:
            raise BadRequest(f"'duration': {exc}") from None
    else:
        assert body.ends_at is not None
        ends = body.ends_at
    silence = await run_in_threadpool(
        lambda: create_silence(
            app.store,
            matchers,
            starts,
            ends,
            created_by=body.created_by,
            comment=body.comment,
            now=now,
        )
    )
    return silence.to_dict(now)


@router.delete(
    "/silences/{silence_id}",
    dependencies=ADMIN,
    summary="End a silence now",
    response_model=Silence,
    responses=errors(404),
)
async def end_silence(request: Request, silence_id: str) -> dict[str, Any]:
    app = state(request)
    now = app.clock()
    silence = await run_in_threadpool(expire_silence, app.store, silence_id, now)
    return silence.to_dict(now)
