"""The FastAPI app that ``bench_middleware`` loads: instrumented when MIDDLEWARE=1."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from mlvitals import Monitor

api = FastAPI()


@api.get("/predict/{item}")
async def predict(item: int) -> dict[str, Any]:
    return {"item": item, "score": (item * 7919) % 1000 / 1000}


app: Any = api
if os.environ.get("MIDDLEWARE") == "1":
    app = Monitor("bench", "1").asgi(api)
