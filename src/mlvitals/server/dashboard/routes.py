"""Dashboard routes: the overview, the section pages, login and the charting bundle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mlvitals.server.alerting import page as alerts_page
from mlvitals.server.dashboard import cost_page, datasets, login, pipelines, services, vendor
from mlvitals.server.dashboard.overview import load_overview
from mlvitals.server.dashboard.render import page
from mlvitals.server.dashboard.sections import SECTIONS, Section, count_records, ingest_example
from mlvitals.server.deps import AppState

router = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(vendor.router)
router.include_router(services.router)
router.include_router(datasets.router)
router.include_router(pipelines.router)
router.include_router(cost_page.router)
router.include_router(alerts_page.router)

# Sections with a page of their own; their entry in SECTIONS still words the empty state.
OWN_PAGES = {"/services", "/datasets", "/alerts", "/pipelines", "/cost"}


def static_dir() -> Path:
    return Path(__file__).parent / "static"


@router.get("/", name="overview")
async def overview(request: Request) -> Response:
    base = str(request.base_url)

    def load(app: AppState) -> dict[str, Any]:
        context = load_overview(app)
        context["example"] = ingest_example(base, app.tokens.enabled)
        return context

    return await page(request, "overview.html", load)


def _section_page(section: Section) -> Callable[[Request], Awaitable[Response]]:
    async def section_page(request: Request) -> Response:
        base = str(request.base_url)

        def load(app: AppState) -> dict[str, Any]:
            counts = count_records(app, section.kinds)
            example = ingest_example(base, app.tokens.enabled) if section.ingest_example else ""
            return {
                "title": section.title,
                "section": section,
                "counts": counts,
                "recorded": sum(c["records"] for c in counts),
                "example": example,
            }

        return await page(request, "section.html", load)

    return section_page


for _section in SECTIONS:
    if _section.path in OWN_PAGES:
        continue
    router.add_api_route(
        _section.path,
        _section_page(_section),
        methods=["GET"],
        name=_section.path.strip("/"),
        response_class=Response,
    )
