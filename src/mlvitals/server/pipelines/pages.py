"""The Pipelines pages: every pipeline, one pipeline's runs, and one run.

``GET /pipelines?range=7d`` lists every pipeline with its health (as
``GET /api/v1/pipelines`` reports it), its last run, how its schedule was kept over the
range, and a timeline of the range's runs. ``GET /pipelines/{name}?range=7d`` shows one
pipeline's runs, charts and flagged runs; ``GET /runs/{id}`` one run (built in
:mod:`mlvitals.server.pipelines.run_view`).

Each page reads the runs of its range in one query and computes the rest from them with
the pure functions of :mod:`mlvitals.server.pipelines.view`; the health of each
pipeline comes from :func:`mlvitals.server.pipelines.queries.list_pipelines`, the API's query.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.errors import NotFound
from mlvitals.pipelines.config import PipelineConfig
from mlvitals.pipelines.fold import RunState, StepState
from mlvitals.server.alerts.queries import alerts_about
from mlvitals.server.deps import AppState
from mlvitals.server.pipelines import format as pipeline_format
from mlvitals.server.pipelines import view
from mlvitals.server.pipelines.queries import (
    good_runs,
    list_pipelines,
    pipeline_status,
    run_detail,
    steps_of_runs,
)
from mlvitals.server.pipelines.run_view import build_run_page
from mlvitals.server.web import units
from mlvitals.server.web.render import ENV, page, render
from mlvitals.server.web.sections import SECTIONS
from mlvitals.server.web.timeline import what_changed
from mlvitals.store import Store

router: APIRouter = APIRouter(include_in_schema=False)
ENV.filters.update(units.FILTERS)
ENV.filters.update(pipeline_format.FILTERS)
ENV.globals["health_labels"] = pipeline_format.HEALTH_LABELS
ENV.globals["health_classes"] = pipeline_format.HEALTH_CLASSES
ENV.globals["state_classes"] = pipeline_format.STATE_CLASSES

RANGES = {"24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
RANGE_LABELS = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days"}
DEFAULT_RANGE = "7d"
MAX_RUNS = 2000
"""Runs read for the list page's range (the most recent ones)."""
MAX_PIPELINE_RUNS = 500
"""Runs read for one pipeline's range."""
MAX_TABLE_RUNS = 200
"""Rows of a pipeline's run table."""

_SECTION = next(s for s in SECTIONS if s.path == "/pipelines")

EXAMPLE = """\
from mlvitals.pipelines import run

with run("nightly-etl", server="{base}", trigger="schedule"{token}) as r:
    with r.step("extract") as s:
        s.input("warehouse.orders")
        s.output("data/raw/")        # files, types, bytes, rows and schema"""


def parse_range(params: Mapping[str, str]) -> str:
    chosen = params.get("range", DEFAULT_RANGE)
    return chosen if chosen in RANGES else DEFAULT_RANGE


# -- store reads -----------------------------------------------------------------------------


def runs_in_range(
    store: Store, start: float, *, pipeline: str | None = None, limit: int = MAX_RUNS
) -> tuple[list[RunState], bool]:
    """Runs with an event at or after ``start`` (the ``limit`` most recent), newest start
    first, and whether the limit cut some off. One query."""
    where, params = ("pipeline = ? AND ", [pipeline]) if pipeline is not None else ("", [])
    rows = store.fetch(
        "SELECT * FROM run_events WHERE run_id IN (SELECT run_id FROM run_events"
        f" WHERE {where}time >= ? GROUP BY run_id ORDER BY MAX(time) DESC LIMIT ?)",
        [*params, start, limit],
    )
    runs = view.fold_runs(rows)
    return runs, len(runs) >= limit


def first_seen(store: Store, pipeline: str | None = None) -> dict[str, float]:
    """When each pipeline first ran or declared a configuration. One query."""
    where, params = ("WHERE pipeline = ?", [pipeline] * 2) if pipeline is not None else ("", [])
    rows = store.fetch(
        f"SELECT pipeline, MIN(time) AS t FROM run_events {where} GROUP BY pipeline"
        f" UNION ALL SELECT pipeline, MIN(time) AS t FROM pipeline_configs {where}"
        " GROUP BY pipeline",
        params,
    )
    out: dict[str, float] = {}
    for row in rows:
        t = float(row["t"])
        out[row["pipeline"]] = min(t, out.get(row["pipeline"], t))
    return out


def _config(name: str, declared: Mapping[str, Any] | None) -> PipelineConfig | None:
    return None if declared is None else PipelineConfig(name, **declared)


def _since(first: Mapping[str, float], name: str, runs: Sequence[RunState], cut: bool) -> float:
    """The earliest time schedule slots are judged from: when the pipeline was first seen,
    or the oldest run read when the read was cut short (older slots were not read)."""
    since = first.get(name, 0.0)
    if cut and runs:
        since = max(since, min(r.started_at or 0.0 for r in runs))
    return since


# -- the list page ---------------------------------------------------------------------------


def _ranges(current: str, path: str) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": key, "url": f"{path}?range={key}", "current": key == current}
        for key in RANGES
    ]


def _empty_state(base_url: str, tokens: bool) -> dict[str, Any]:
    token = ', token="YOUR_INGEST_TOKEN"' if tokens else ""
    return {"example": EXAMPLE.format(base=base_url.rstrip("/"), token=token)}


def load_pipelines(app: AppState, chosen: str, base_url: str) -> dict[str, Any]:
    """The list page: health, last run, schedule over the range, and the runs timeline."""
    now = app.clock()
    start = now - RANGES[chosen]
    statuses = list_pipelines(app.store, now)
    context: dict[str, Any] = {
        "title": "Pipelines",
        "section": _SECTION,
        "ranges": _ranges(chosen, "/pipelines"),
        "range_label": RANGE_LABELS[chosen],
        "start": start,
        "now": now,
        "pipelines": [],
    }
    if not statuses:
        return context | _empty_state(base_url, app.tokens.enabled)
    runs, cut = runs_in_range(app.store, start)
    first = first_seen(app.store)
    by_pipeline: dict[str, list[RunState]] = defaultdict(list)
    for run in runs:
        by_pipeline[run.pipeline].append(run)
    rows, adherences = [], {}
    for status in statuses:
        name = status["pipeline"]
        mine = by_pipeline.get(name, [])
        config = _config(name, status["config"])
        adh = view.range_adherence(
            config, mine, start=start, now=now, since=_since(first, name, mine, cut)
        )
        adherences[name] = adh
        last = status["last_run"]
        rows.append(
            {
                "name": name,
                "url": view.pipeline_path(name, range=chosen),
                "kind": status["run_kind"] or "",
                "health": status["health"],
                "last": None
                if last is None
                else view.run_row(
                    RunState(**{k: v for k, v in last.items() if k != "start_delay_seconds"}),
                    now,
                    None if config is None else config.grace_seconds,
                ),
                "schedule": None if config is None else config.schedule,
                "timezone": None if config is None else config.timezone,
                "adherence": None if adh is None else adh.to_dict(),
                "next_run": None if adh is None else adh.next_nominal,
                "overdue": status["overdue"],
                "runs": len(mine),
                "failed": sum(1 for r in mine if r.state in ("failed", "aborted")),
            }
        )
    series, timeline_rows = view.timeline(by_pipeline, adherences, now=now)
    health = [r["health"] for r in rows]
    return context | {
        "pipelines": rows,
        "timeline": series,
        "timeline_rows": timeline_rows,
        "timeline_height": view.timeline_height(len(timeline_rows)),
        "cut": cut,
        "totals": {
            "pipelines": len(rows),
            "failing": health.count("failed"),
            "behind": health.count("late") + health.count("missed"),
            "overdue": health.count("overdue"),
            "runs": len(runs),
        },
    }


def glance(app: AppState) -> dict[str, Any] | None:
    """The overview's row: how many pipelines are failing, behind schedule or overdue."""
    statuses = list_pipelines(app.store, app.clock())
    if not statuses:
        return None
    health = [s["health"] for s in statuses]
    return {
        "pipelines": len(statuses),
        "failing": health.count("failed"),
        "behind": health.count("late") + health.count("missed"),
        "overdue": health.count("overdue"),
    }


# -- one pipeline ----------------------------------------------------------------------------


def _with_run_outputs(
    steps: Mapping[str, tuple[list[StepState], list[dict[str, Any]]]], runs: Sequence[RunState]
) -> dict[str, list[StepState]]:
    """Steps per run, plus a "(whole run)" entry holding the run's own outputs, if any."""
    out: dict[str, list[StepState]] = {}
    for run in runs:
        run_steps, run_datasets = steps.get(run.run_id, ([], []))
        outputs = [d for d in run_datasets if d["direction"] == "output"]
        whole = StepState("", "(whole run)", run.state, None, None, None, outputs=outputs)
        out[run.run_id] = [*run_steps, whole] if outputs else list(run_steps)
    return out


def load_pipeline(app: AppState, name: str, chosen: str) -> dict[str, Any]:
    """One pipeline's page; raises :class:`NotFound` when it never ran nor was declared."""
    now = app.clock()
    start = now - RANGES[chosen]
    store = app.store
    status = pipeline_status(store, name, now)
    if status["last_run"] is None and status["config"] is None:
        raise NotFound(f"no pipeline named {name!r}")
    config = _config(name, status["config"])
    runs, cut = runs_in_range(store, start, pipeline=name, limit=MAX_PIPELINE_RUNS)
    keep = config.history if config else 20
    history = good_runs(store, name, limit=keep, before=start)
    steps = steps_of_runs(store, list({r.run_id for r in [*runs, *history]}))
    step_lists = {rid: list(s) for rid, (s, _) in steps.items()}
    first = first_seen(store, name)
    adh = view.range_adherence(
        config, runs, start=start, now=now, since=_since(first, name, runs, cut)
    )
    grace = config.grace_seconds if config else None
    flags = view.schedule_flags(adh, grace or 0.0)
    flags += view.step_flags(runs, step_lists, history, keep=keep)
    overdue = status["overdue"]
    if overdue is not None:
        elapsed = units.duration(overdue["elapsed_seconds"])
        limit = units.duration(overdue["limit_seconds"])
        reason = f"running for {elapsed}: {overdue['reason']} ({limit})"
        flags.append(view.Flag(now, "overdue", (reason,), overdue["run_id"]))
    flags.sort(key=lambda f: f.time, reverse=True)
    outputs = _with_run_outputs(steps, runs)
    durations, duration_unit = view.duration_series(runs, now)
    bytes_series, bytes_unit = view.bytes_unit(view.output_series(runs, outputs, "output_bytes"))
    table = [view.run_row(r, now, grace) for r in runs[:MAX_TABLE_RUNS]]
    good = [r.duration_seconds for r in runs if r.state == "succeeded" and r.duration_seconds]
    return {
        "title": name,
        "name": name,
        "alerts": alerts_about(store, now, labels={"pipeline": name}),
        "changes": what_changed(store, start, now, pipeline=name),
        "status": status,
        "api_url": f"/api/v1/pipelines/{quote(name, safe='')}/runs",
        "last_run_url": view.run_path(status["last_run"]["run_id"]) if status["last_run"] else "",
        "config": config,
        "kind": status["run_kind"] or "",
        "ranges": _ranges(chosen, view.pipeline_path(name)),
        "range_label": RANGE_LABELS[chosen],
        "start": start,
        "now": now,
        "adherence": None if adh is None else adh.to_dict(),
        "flags": [f.to_dict() for f in flags],
        "runs": table,
        "more_runs": len(runs) - len(table),
        "cut": cut,
        "has_models": any(r["model_version"] for r in table),
        "has_deployments": any(r["service"] for r in table),
        "totals": {
            "runs": len(runs),
            "failed": sum(1 for r in runs if r.state in ("failed", "aborted")),
            "median_duration": statistics.median(good) if good else None,
        },
        "charts": {
            "duration": durations,
            "duration_unit": duration_unit,
            "rows": view.output_series(runs, outputs, "output_rows"),
            "bytes": bytes_series,
            "bytes_unit": bytes_unit,
        },
    }


# -- routes ----------------------------------------------------------------------------------


@router.get("/pipelines", name="pipelines")
async def pipelines_page(request: Request) -> Response:
    base = str(request.base_url)
    chosen = parse_range(request.query_params)
    return await page(request, "pipelines.html", lambda app: load_pipelines(app, chosen, base))


@router.get("/pipelines/{name:path}", name="pipeline")
async def pipeline_page(request: Request, name: str) -> Response:
    chosen = parse_range(request.query_params)
    try:
        return await page(
            request, "pipelines_detail.html", lambda app: load_pipeline(app, name, chosen)
        )
    except NotFound:
        return render(
            request,
            "pipelines_missing.html",
            {"title": "Pipeline not found", "name": name},
            status=404,
        )


def load_run(app: AppState, run_id: str) -> dict[str, Any]:
    now = app.clock()
    detail = run_detail(app.store, run_id, now)
    if detail is None:
        raise NotFound(f"no run with id {run_id!r}")
    context = build_run_page(detail, now)
    context["alerts"] = alerts_about(app.store, now, link=view.run_path(run_id))
    return context


@router.get("/runs/{run_id:path}", name="run")
async def run_page(request: Request, run_id: str) -> Response:
    try:
        return await page(request, "run.html", lambda app: load_run(app, run_id))
    except NotFound:
        return render(
            request, "run_missing.html", {"title": "Run not found", "run_id": run_id}, status=404
        )
