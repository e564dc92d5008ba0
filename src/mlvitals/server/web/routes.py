"""Dashboard routes shared by every area: the overview, the Server page, login and the
charting bundle.

Each area's own pages come from its ``pages.py``, collected through
:mod:`mlvitals.server.areas`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.server.deps import AppState
from mlvitals.server.web import login, vendor
from mlvitals.server.web.overview import load_overview
from mlvitals.server.web.render import page
from mlvitals.server.web.sections import ingest_example
from mlvitals.server.web.server_page import load_server

router: APIRouter = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(vendor.router)


def static_dir() -> Path:
    return Path(__file__).parent / "static"


@router.get("/", name="overview")
async def overview(request: Request) -> Response:
    base = str(request.base_url)
    return await page(request, "overview.html", lambda app: load_overview(app, base))


@router.get("/server", name="server")
async def server(request: Request) -> Response:
    base = str(request.base_url)

    def load(app: AppState) -> dict[str, Any]:
        context = load_server(app)
        context["example"] = ingest_example(base, app.tokens.enabled)
        return context

    return await page(request, "server.html", load)
