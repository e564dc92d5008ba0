"""Pipelines and runs: ``GET /api/v1/pipelines``, ``/api/v1/pipelines/{name}/runs``,
``/api/v1/runs/{id}`` and ``/api/v1/environments/{hash}``.

The logic lives in :mod:`mlvitals.server.pipelines.queries`, shared with the CLI and pages.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from mlvitals.errors import NotFound
from mlvitals.server.deps import require, state
from mlvitals.server.pipelines import queries
from mlvitals.server.web.answers import Answer, Number, errors


class Resources(Answer):
    cpu_seconds: Number | None = None
    peak_rss_bytes: int | None = None
    gpu_seconds: Number | None = None
    wall_seconds: Number | None = None


class Run(Answer):
    """A run folded from its events (``state``: running, succeeded, failed, aborted)."""

    run_id: str
    pipeline: str
    state: str
    started_at: Number | None
    ended_at: Number | None
    duration_seconds: Number | None
    run_kind: str | None
    namespace: str
    trigger: str | None
    scheduled_at: Number | None
    parent_run_id: str | None
    params: dict[str, Any] | None
    environment_hash: str | None
    error: dict[str, Any] | None = Field(description="type, message, traceback")
    resources: Resources
    model_version: str | None
    service: str | None
    serving_version: str | None
    host: str | None
    source: str | None
    facets: dict[str, Any] | None
    start_delay_seconds: Number | None


class Step(Answer):
    step_id: str
    name: str
    state: str
    started_at: Number | None
    ended_at: Number | None
    duration_seconds: Number | None
    parent_step_id: str | None
    error: dict[str, Any] | None
    resources: Resources
    host: str | None
    pid: int | None
    facets: dict[str, Any] | None
    inputs: list[dict[str, Any]] = Field(description="dataset references read by the step")
    outputs: list[dict[str, Any]] = Field(description="dataset references written")
    depth: int


class Config(Answer):
    schedule: str | None
    timezone: str
    grace_seconds: Number
    max_duration_seconds: Number | None
    history: int


class RunOverdue(Answer):
    """Why a running run is late: it has run longer than its limit."""

    elapsed_seconds: Number
    limit_seconds: Number
    reason: str


class Overdue(Answer):
    run_id: str
    elapsed_seconds: Number
    limit_seconds: Number
    reason: str


class PipelineStatus(Answer):
    pipeline: str
    health: str
    run_kind: str | None
    last_run: Run | None
    runs: int
    config: Config | None
    schedule: dict[str, Any] | None = Field(description="adherence to the schedule, if any")
    overdue: Overdue | None


class PipelineList(Answer):
    pipelines: list[PipelineStatus]


class PipelineRuns(PipelineStatus):
    runs: list[Run]  # type: ignore[assignment]  # the runs themselves, not their count


class Environment(Answer):
    hash: str
    python: str
    implementation: str
    platform: str
    packages: dict[str, str]
    captured_at: Number | None


class RunDetail(Answer):
    run: Run
    steps: list[Step]
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    environment: Environment | None
    environment_diff: dict[str, Any] | None = Field(
        description="a failed run's changes since the last good run's environment"
    )
    anomalies: list[dict[str, Any]]
    overdue: RunOverdue | None
    child_runs: list[str]


router: APIRouter = APIRouter(dependencies=[Depends(require("read"))], tags=["pipelines"])


@router.get(
    "/api/v1/pipelines",
    summary="Pipelines with health, last run and schedule adherence",
    response_model=PipelineList,
    responses=errors(),
)
async def pipelines(request: Request) -> dict[str, Any]:
    app = state(request)
    items = await run_in_threadpool(queries.list_pipelines, app.store, app.clock())
    return {"pipelines": items}


@router.get(
    "/api/v1/pipelines/{name}/runs",
    summary="Runs of one pipeline, newest first",
    response_model=PipelineRuns,
    responses=errors(404),
)
async def pipeline_runs(
    request: Request,
    name: str,
    limit: int = Query(50, ge=1, le=1000),
    run_state: str | None = Query(
        None, alias="state", pattern="^(running|succeeded|failed|aborted)$"
    ),
) -> dict[str, Any]:
    app = state(request)

    def load() -> dict[str, Any]:
        status = queries.pipeline_status(app.store, name, app.clock())
        runs = queries.list_runs(app.store, pipeline=name, limit=limit, state=run_state)
        return {**status, "runs": [r.to_dict() for r in runs]}

    result = await run_in_threadpool(load)
    if not result["runs"] and result["config"] is None and run_state is None:
        raise NotFound(f"no pipeline named {name!r}: it has neither runs nor a configuration")
    return result


@router.get(
    "/api/v1/runs/{run_id}",
    summary="One run: steps, datasets, resources, errors",
    response_model=RunDetail,
    responses=errors(404),
)
async def run(request: Request, run_id: str) -> dict[str, Any]:
    app = state(request)
    detail = await run_in_threadpool(queries.run_detail, app.store, run_id, app.clock())
    if detail is None:
        raise NotFound(f"no run with id {run_id!r}")
    return detail


@router.get(
    "/api/v1/environments/{env_hash}",
    summary="One environment snapshot",
    response_model=Environment,
    responses=errors(404),
)
async def environment(request: Request, env_hash: str) -> dict[str, Any]:
    app = state(request)
    env = await run_in_threadpool(queries.environment, app.store, env_hash)
    if env is None:
        raise NotFound(f"no environment with hash {env_hash!r}")
    return env.to_dict()
