"""The FastAPI app that ``bench_middleware`` loads.

One process serves the app both ways: a request whose query string is ``tracked=1`` goes
through ``Monitor.asgi``, any other straight to the app. The benchmark
alternates between the two in the same process, so both share its memory layout, its CPU
and its hash seed; the choice itself costs both the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

from mlvitals import Monitor

api = FastAPI()


@api.get("/predict/{item}")
async def predict(item: int) -> dict[str, Any]:
    return {"item": item, "score": (item * 7919) % 1000 / 1000}


tracked = Monitor("bench", "1").asgi(api)
Scope = MutableMapping[str, Any]


async def app(scope: Scope, receive: Callable[[], Awaitable[Any]], send: Any) -> None:
    if scope.get("query_string") == b"tracked=1":
        await tracked(scope, receive, send)
    else:
        await api(scope, receive, send)
