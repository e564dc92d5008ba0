"""A request whose path or query string holds a NUL character is a 400.

NUL (U+0000) is never part of a name, a time or any other value the API reads, and
PostgreSQL refuses it in a query parameter: refusing it here, for every route, keeps the
answer a clear 400 on both stores instead of a store error.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

_MESSAGE = orjson.dumps({"error": "the URL holds a NUL character (%00): remove it"})


class RefuseNul:
    """ASGI middleware: 400 for ``%00`` in the path or the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_MESSAGE)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _MESSAGE})
            return
        await self.app(scope, receive, send)
