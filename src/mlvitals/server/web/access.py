"""Who may see dashboard pages: the same tokens and ``read`` scope as the API.

A browser keeps its token in the ``mlvitals_token`` cookie (set by ``POST /login``);
:func:`mlvitals.server.deps.bearer` accepts it wherever a bearer token is accepted. A page
request without an acceptable token is sent to ``/login`` instead of getting a JSON 401.

>>> safe_next("/services?window=1h")
'/services?window=1h'
>>> safe_next("//evil.example/")
'/'
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse

from mlvitals.errors import Forbidden, Unauthorized
from mlvitals.server.auth import COOKIE
from mlvitals.server.deps import check_scope

LOGIN_PATH = "/login"
PAGE_SCOPE = "read"


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this server, else ``/``: never an open redirect."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return "/"
    return target


def login_location(next_path: str, *, rejected: bool = False) -> str:
    query = {"next": safe_next(next_path)}
    if rejected:
        query["error"] = "rejected"
    return f"{LOGIN_PATH}?{urlencode(query)}"


def page_access(request: Request) -> RedirectResponse | None:
    """``None`` when the request may see pages; otherwise a 303 redirect to the login form.

    A cookie that is no longer accepted (token removed, scope lost) is cleared on the way.
    """
    try:
        check_scope(request, PAGE_SCOPE)
    except (Unauthorized, Forbidden):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        stale = COOKIE in request.cookies
        response = RedirectResponse(login_location(here, rejected=stale), status_code=303)
        if stale:
            response.delete_cookie(COOKIE, path="/")
        return response
    return None
