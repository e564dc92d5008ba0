"""Pipelines and runs: ``GET /api/v1/pipelines``, ``/api/v1/pipelines/{name}/runs``,
``/api/v1/runs/{id}`` and ``/api/v1/environments/{hash}``.

The logic lives in :mod:`mlvitals.server.pipelines.queries`, shared with the CLI and pages.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from mlvitals.errors import NotFound
from mlvitals.server.deps import require, state
from mlvitals.server.pipelines import queries

router: APIRouter = APIRouter(dependencies=[Depends(require("read"))], tags=["pipelines"])


@router.get("/api/v1/pipelines", summary="Pipelines with health, last run and schedule adherence")
async def pipelines(request: Request) -> dict[str, Any]:
    app = state(request)
    items = await run_in_threadpool(queries.list_pipelines, app.store, app.clock())
    return {"pipelines": items}


@router.get("/api/v1/pipelines/{name}/runs", summary="Runs of one pipeline, newest first")
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


@router.get("/api/v1/runs/{run_id}", summary="One run: steps, datasets, resources, errors")
async def run(request: Request, run_id: str) -> dict[str, Any]:
    app = state(request)
    detail = await run_in_threadpool(queries.run_detail, app.store, run_id, app.clock())
    if detail is None:
        raise NotFound(f"no run with id {run_id!r}")
    return detail


@router.get("/api/v1/environments/{env_hash}", summary="One environment snapshot")
async def environment(request: Request, env_hash: str) -> dict[str, Any]:
    app = state(request)
    env = await run_in_threadpool(queries.environment, app.store, env_hash)
    if env is None:
        raise NotFound(f"no environment with hash {env_hash!r}")
    return env.to_dict()
