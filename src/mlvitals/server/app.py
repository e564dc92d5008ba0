"""The ASGI application: ``create_app(settings, store)``.

>>> from mlvitals.settings import Settings
>>> from mlvitals.server.database import open_database
>>> app = create_app(Settings(), open_database(":memory:"))
>>> app.title
'mlvitals'
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from mlvitals import __version__
from mlvitals.cost.budgets import load_budgets
from mlvitals.cost.config import load_config
from mlvitals.errors import HTTPError, StoreError
from mlvitals.server import ingest_api, meta
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.areas import AREAS
from mlvitals.server.auth import token_table
from mlvitals.server.database import open_database
from mlvitals.server.deps import AppState
from mlvitals.server.loops import start_loops
from mlvitals.server.metrics import ServerMetrics
from mlvitals.server.request_text import RefuseNul
from mlvitals.server.serving.prober import load_probes
from mlvitals.server.web import routes as web
from mlvitals.settings import Settings
from mlvitals.store import Store

log = logging.getLogger("mlvitals.server")


def create_app(
    settings: Settings,
    store: Store | None = None,
    *,
    clock: Callable[[], float] = time.time,
    registry: CollectorRegistry | None = None,
    background: bool = True,
) -> FastAPI:
    """Build the server. With no ``store`` one is opened from ``settings.db`` at startup and
    closed at shutdown (after in-flight requests finished); a given store stays the caller's.
    Background loops (rollups, retention, probes) run while the lifespan does, unless
    ``background`` is false.
    """
    tokens = token_table(settings.tokens, settings.tokens_file)
    metrics = ServerMetrics.create(registry)

    # A broken configuration file fails at start, not at the first request.
    load_probes(settings.probes_file)
    load_config(settings.rate_card or None)
    load_budgets(settings.budgets_file or None)
    rules_source(settings.rules_file)  # so does a broken rules file

    def attach(app: FastAPI, active: Store) -> AppState:
        if getattr(app.state, "mlvitals", None) is None:
            texts = tuple(
                make(active, settings, clock) for area in AREAS for make in area.expositions
            )
            admissions = tuple(
                make(active, settings, clock) for area in AREAS for make in area.admissions
            )
            app.state.mlvitals = AppState(
                settings, active, metrics, tokens, clock, exports=texts, admissions=admissions
            )
            for area in AREAS:
                for export in area.exports:
                    metrics.registry.register(export(active, settings, clock))
        current: AppState = app.state.mlvitals
        return current

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        active = open_database(settings.db, pool_size=settings.pg_pool_size) if owned else store
        assert active is not None
        loops = start_loops(attach(app, active)) if background else None
        try:
            yield
        finally:
            if loops is not None:
                await loops.close()
            if owned:
                active.close()

    app = FastAPI(
        title="mlvitals",
        version=__version__,
        description="Operational monitoring for machine-learning systems.",
        openapi_url=None,  # served by meta.router, behind the read scope
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.mlvitals = None
    app.add_middleware(RefuseNul)
    if store is not None:
        # Usable without running the lifespan (e.g. a TestClient not used as a context).
        attach(app, store)

    @app.exception_handler(HTTPError)
    async def http_error(request: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own answer, ASCII-escaped: an input holding a lone surrogate cannot be
        # encoded as UTF-8, and must not turn a 422 into a 500.
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store error on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"error": f"store unavailable: {exc}"}, status_code=503)

    app.include_router(meta.router)
    app.include_router(ingest_api.router)
    for area in AREAS:
        for router in area.api:
            app.include_router(router)
    app.include_router(web.router)
    for area in AREAS:
        for router in area.pages:
            app.include_router(router)
    app.mount("/static/swagger", StaticFiles(directory=meta.swagger_dir()), name="swagger")
    app.mount("/static", StaticFiles(directory=web.static_dir()), name="static")
    return app
