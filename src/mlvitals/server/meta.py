"""Health, Prometheus metrics, the store summary and the interactive API docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mlvitals.errors import StoreError
from mlvitals.server.deps import require, state
from mlvitals.server.summary import store_summary
from mlvitals.server.web.answers import Answer, Number, errors

router: APIRouter = APIRouter()


class Health(Answer):
    status: str
    store: str
    schema_version: int


class Unavailable(Answer):
    status: str
    error: str


class KindCount(Answer):
    kind: str
    table: str
    records: int


class IngestMinute(Answer):
    minute: float
    records: int
    batches: int


class LimitUse(Answer):
    """A limit on ingested records, in this server process: what is used of it and how many
    records it rejected since the process started."""

    limit: str
    used: int
    max: int
    rejected: int


class Summary(Answer):
    backend: str
    schema_version: int
    kinds: list[KindCount]
    batches: int
    records: int
    last_ingest: Number | None
    ingest_per_minute: list[IngestMinute]
    limits: list[LimitUse]


@router.get(
    "/healthz",
    summary="Liveness and store reachability (never needs a token)",
    response_model=Health,
    responses={503: {"model": Unavailable, "description": "the store is unavailable"}},
)
async def healthz(request: Request) -> Response:
    app = state(request)
    try:
        version = await run_in_threadpool(app.store.schema_version)
    except StoreError as exc:
        return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "store": app.store.backend, "schema_version": version})


@router.get(
    "/metrics",
    dependencies=[Depends(require("read"))],
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "the Prometheus text exposition format",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        },
        **errors(store=False),
    },
)
async def metrics(request: Request) -> Response:
    app = state(request)

    def render() -> bytes:
        return b"".join([generate_latest(app.metrics.registry), *(e() for e in app.exports)])

    # Off the event loop: a big fleet's exposition must not stall /healthz or ingest.
    return Response(await run_in_threadpool(render), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/v1/summary",
    dependencies=[Depends(require("read"))],
    summary="What the store holds: records per kind and recent ingest",
    response_model=Summary,
    responses=errors(),
)
async def summary(request: Request) -> dict[str, Any]:
    app = state(request)
    held = await run_in_threadpool(store_summary, app.store, app.clock())
    return {**held, "limits": await run_in_threadpool(app.limits)}


def swagger_dir() -> Path:
    """Swagger UI's assets, from the installed ``fastapi-offline`` package (OpenAPI 3.1 aware)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


@router.get(
    "/api/v1/openapi.json", dependencies=[Depends(require("read"))], include_in_schema=False
)
async def openapi(request: Request) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/api/v1/docs", dependencies=[Depends(require("read"))], include_in_schema=False)
async def api_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="mlvitals API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon.png",
    )
