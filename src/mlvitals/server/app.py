"""The ASGI application: ``create_app(settings, store)``.

>>> from mlvitals.settings import Settings
>>> from mlvitals.store import open_store
>>> app = create_app(Settings(), open_store(":memory:"))
>>> app.title
'mlvitals'
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from mlvitals import __version__
from mlvitals.errors import HTTPError, StoreError
from mlvitals.server.api import ingest, meta
from mlvitals.server.auth import token_table
from mlvitals.server.dashboard import routes as dashboard
from mlvitals.server.deps import AppState
from mlvitals.server.metrics import ServerMetrics
from mlvitals.settings import Settings
from mlvitals.store import Store, open_store

log = logging.getLogger("mlvitals.server")


def create_app(
    settings: Settings,
    store: Store | None = None,
    *,
    clock: Callable[[], float] = time.time,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """Build the server. With no ``store`` one is opened from ``settings.db`` at startup and
    closed at shutdown (after in-flight requests finished); a given store stays the caller's.
    """
    tokens = token_table(settings.tokens, settings.tokens_file)
    metrics = ServerMetrics.create(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        active = open_store(settings.db, pool_size=settings.pg_pool_size) if owned else store
        assert active is not None
        app.state.mlvitals = AppState(settings, active, metrics, tokens, clock)
        try:
            yield
        finally:
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
    if store is not None:
        # Usable without running the lifespan (e.g. a TestClient not used as a context).
        app.state.mlvitals = AppState(settings, store, metrics, tokens, clock)

    @app.exception_handler(HTTPError)
    async def http_error(request: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store error on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"error": f"store unavailable: {exc}"}, status_code=503)

    app.include_router(meta.router)
    app.include_router(ingest.router)
    app.include_router(dashboard.router)
    app.mount("/static/swagger", StaticFiles(directory=meta.swagger_dir()), name="swagger")
    app.mount("/static", StaticFiles(directory=dashboard.static_dir()), name="static")
    return app
