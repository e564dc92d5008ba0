"""``GET/POST /login`` and ``POST /logout``: a browser session for a token-protected server.

The form posts the token once; the server checks it has the ``read`` scope and keeps it in an
HttpOnly, SameSite=Lax cookie (``Secure`` over HTTPS), so page scripts can never read it and
other sites' forms cannot send it. With no tokens configured, both routes just redirect.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mlvitals.errors import MlvitalsError
from mlvitals.server.auth import COOKIE
from mlvitals.server.body import read_body
from mlvitals.server.deps import state
from mlvitals.server.web.access import LOGIN_PATH, PAGE_SCOPE, safe_next
from mlvitals.server.web.render import render

router: APIRouter = APIRouter(include_in_schema=False)

# A token plus the ``next`` path; anything larger is not a login form.
_MAX_FORM_BYTES = 16 * 1024

_REJECTED = (
    "Your saved token is no longer accepted (it was removed or lost the read scope). Sign in again."
)


def _form(request: Request, next_path: str, *, error: str = "", status: int = 200) -> Response:
    return render(
        request,
        "login.html",
        {"title": "Sign in", "next_path": next_path, "error": error},
        status=status,
    )


@router.get(LOGIN_PATH, name="login")
async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if not state(request).tokens.enabled:
        return RedirectResponse(next_path, status_code=303)
    error = _REJECTED if request.query_params.get("error") == "rejected" else ""
    return _form(request, next_path, error=error)


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded form fields (first value of each); empty for any other body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    body = await read_body(request, _MAX_FORM_BYTES)
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=8)
    return {name: values[0] for name, values in fields.items() if values}


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    tokens = state(request).tokens
    try:
        fields = await _read_form(request)
    except MlvitalsError:
        fields = {}
    next_path = safe_next(fields.get("next"))
    if not tokens.enabled:
        return RedirectResponse(next_path, status_code=303)
    token = fields.get("token", "").strip()
    if not token:
        return _form(request, next_path, error="Enter a token.", status=400)
    scopes = tokens.scopes_for(token)
    if not scopes:
        return _form(request, next_path, error="This token is not known here.", status=401)
    if PAGE_SCOPE not in scopes:
        return _form(
            request,
            next_path,
            error="This token lacks the read scope the dashboard needs; use a read token.",
            status=403,
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response
