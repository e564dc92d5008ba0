"""A model service to run as a process of its own: FastAPI behind the SDK's middleware, on
uvicorn, shipping 1-second windows to an mlvitals server.

    python -m tests.alerts.model_service SERVER_URL PORT VERSION
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from mlvitals import Monitor
from mlvitals.sdk import AsgiMiddleware


def main() -> None:
    server, port, version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    monitor = Monitor("model-api", version=version, server=server, window=1.0, nvml=False)
    app = FastAPI()
    app.add_middleware(AsgiMiddleware, monitor=monitor, exclude=["/healthz"])

    @app.post("/predict")
    async def predict(features: list[float]) -> dict[str, float]:
        return {"score": sum(features)}

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    # uvicorn runs the lifespan shutdown on SIGTERM, then ends the process with the signal.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
