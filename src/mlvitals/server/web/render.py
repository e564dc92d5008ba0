"""Rendering dashboard pages: the Jinja environment, the navigation and ``page()``.

Every page is rendered on the server from one store call made in a worker thread, so a slow
database never blocks the event loop and a page needs no API round trips to show numbers.

A page handler is three lines::

    @router.get("/services")
    async def services(request: Request) -> Response:
        return await page(request, "services.html", load_services)

where ``load_services(app: AppState) -> dict`` runs the store query and returns the template
context. ``page`` checks the ``read`` scope first and sends a browser without it to ``/login``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.concurrency import run_in_threadpool
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mlvitals import __version__
from mlvitals.alerts.links import object_label
from mlvitals.errors import StoreError
from mlvitals.server.deps import AppState, state
from mlvitals.server.web import formatting
from mlvitals.server.web.access import page_access

log = logging.getLogger("mlvitals.server.dashboard")

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str


NAV: tuple[NavItem, ...] = (
    NavItem("Overview", "/"),
    NavItem("Services", "/services"),
    NavItem("Datasets", "/datasets"),
    NavItem("Pipelines", "/pipelines"),
    NavItem("Cost", "/cost"),
    NavItem("Alerts", "/alerts"),
    NavItem("API docs", "/api/v1/docs"),
)

# Plotly draws SVG and sets inline styles; nothing here needs eval, remote hosts or frames.
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: send them to the browser as null (a gap)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _dumps(value: Any, **kwargs: Any) -> str:
    return json.dumps(_finite(value), allow_nan=False, separators=(",", ":"), **kwargs)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # ``tojson`` (used by the chart macro) escapes <, >, & and ' so the JSON is safe inside
    # a <script> element; this dumps function makes it strict JSON that JSON.parse accepts.
    env.policies["json.dumps_function"] = _dumps
    env.filters["count"] = formatting.count
    env.filters["utc"] = formatting.utc
    env.filters["iso"] = formatting.iso
    env.filters["ago"] = formatting.ago
    env.filters["inline_code"] = formatting.inline_code
    env.filters["object_label"] = object_label
    env.globals["nav"] = NAV
    env.globals["version"] = __version__
    return env


ENV = _environment()


def static_url(path: str) -> str:
    """The URL of a file in ``dashboard/static``; the version busts browser caches on upgrade."""
    return f"/static/{path}?v={__version__}"


ENV.globals["static_url"] = static_url


def render(
    request: Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> HTMLResponse:
    """Render ``template`` with the layout's context (navigation, auth state) added."""
    app = state(request)
    html = ENV.get_template(template).render(
        {
            "current_path": request.url.path,
            "auth_enabled": app.tokens.enabled,
            "now": app.clock(),
            **context,
        }
    )
    return HTMLResponse(html, status_code=status, headers=dict(SECURITY_HEADERS))


async def page(
    request: Request,
    template: str,
    load: Callable[[AppState], Mapping[str, Any]],
) -> Response:
    """Check access, run ``load(app_state)`` in a worker thread, render ``template``.

    A store failure becomes an HTML page with status 503 rather than a JSON error.
    """
    denied = page_access(request)
    if denied is not None:
        return denied
    app = state(request)
    try:
        context = await run_in_threadpool(load, app)
    except StoreError as exc:
        log.error("store error on %s: %s", request.url.path, exc)
        return render(
            request,
            "error.html",
            {
                "title": "Store unavailable",
                "message": f"The database could not be read: {exc}",
                "hint": "Check that the database is reachable, then reload this page.",
            },
            status=503,
        )
    return render(request, template, context)
