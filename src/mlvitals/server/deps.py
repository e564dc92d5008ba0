"""Request dependencies shared by the API and the dashboard: app state and scope checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from mlvitals.errors import Forbidden, Unauthorized
from mlvitals.server.auth import COOKIE, TokenTable
from mlvitals.server.metrics import ServerMetrics
from mlvitals.settings import Settings
from mlvitals.store import Store

if TYPE_CHECKING:
    from mlvitals.server.area import Admission


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    store: Store
    metrics: ServerMetrics
    tokens: TokenTable
    clock: Callable[[], float]
    exports: tuple[Callable[[], bytes], ...] = field(default=())
    """Text expositions appended to the server's own metrics on ``/metrics``."""
    admissions: tuple[Admission, ...] = field(default=())
    """The areas' limits on ingested records (cardinality)."""

    def admit(self, kind: str, row: Any) -> tuple[str, str] | None:
        """Ask every area's admission about a valid record; the first refusal wins."""
        for admission in self.admissions:
            refused = admission.admit(kind, row)
            if refused is not None:
                return refused
        return None

    def limits(self) -> list[dict[str, Any]]:
        """Every limit on ingested records, with its use (for the summary)."""
        return [entry for admission in self.admissions for entry in admission.usage()]


def state(request: Request) -> AppState:
    value: AppState = request.app.state.mlvitals
    return value


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(COOKIE)


def check_scope(request: Request, scope: str) -> None:
    """Raise 401/403 unless the request carries a token with ``scope`` (when tokens are on)."""
    tokens = state(request).tokens
    if not tokens.enabled:
        return
    token = bearer(request)
    if token is None:
        raise Unauthorized(f"this endpoint needs a bearer token with the {scope!r} scope")
    scopes = tokens.scopes_for(token)
    if not scopes:
        raise Unauthorized("unknown token")
    if scope not in scopes:
        raise Forbidden(f"the token lacks the {scope!r} scope")


def require(scope: str) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency that enforces ``scope``."""

    async def dependency(request: Request) -> None:
        check_scope(request, scope)

    return dependency
