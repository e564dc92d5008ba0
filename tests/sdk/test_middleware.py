"""ASGI and WSGI middleware on real Starlette, FastAPI and Flask apps and test clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from flask import Flask, Response, abort, stream_with_context
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from mlvitals import Monitor
from mlvitals.sdk import AsgiMiddleware
from tests.sdk.conftest import MemoryTransport, cpu, latency, validate_wire


class ModelError(Exception):
    pass


def summary(memory: MemoryTransport) -> dict[str, tuple[int, dict[str, int], int]]:
    """operation -> (calls, failures, client errors), over all windows."""
    out: dict[str, tuple[int, dict[str, int], int]] = {}
    for w in memory.windows():
        calls, failures, client = out.get(w["operation"], (0, {}, 0))
        merged = dict(failures)
        for k, v in w["failures"].items():
            merged[k] = merged.get(k, 0) + v
        out[w["operation"]] = (calls + w["calls"], merged, client + w["client_errors"])
    return out


# -- Starlette -----------------------------------------------------------------------------


async def item(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["item_id"]})


async def boom(request: Request) -> JSONResponse:
    raise ModelError("broken")


async def busy(request: Request) -> PlainTextResponse:
    return PlainTextResponse("busy", status_code=503)


async def bad(request: Request) -> PlainTextResponse:
    return PlainTextResponse("bad", status_code=422)


async def stream(request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        for _ in range(3):
            await asyncio.sleep(0.03)
            yield b"chunk"

    return StreamingResponse(chunks())


def sync_user(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.path_params["uid"])


def starlette_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/items/{item_id:int}", item),
            Route("/boom", boom),
            Route("/busy", busy),
            Route("/bad", bad),
            Route("/stream", stream),
            Mount("/api", routes=[Route("/users/{uid}", sync_user)]),
            Mount("/static", app=PlainTextResponse("a file")),  # an app that is no router
        ]
    )


@pytest.fixture
def starlette_client(monitor: Monitor) -> Iterator[TestClient]:
    with TestClient(monitor.asgi(starlette_app()), raise_server_exceptions=False) as client:
        yield client


def test_starlette_operations_are_route_templates(
    starlette_client: TestClient, monitor: Monitor, memory: MemoryTransport
) -> None:
    c = starlette_client
    for i in range(3):
        assert c.get(f"/items/{i}").json() == {"id": i}
    assert c.get("/boom").status_code == 500
    assert c.get("/busy").status_code == 503
    assert c.get("/bad").status_code == 422
    assert c.get("/nope").status_code == 404
    assert c.get("/api/users/42").text == "42"
    assert c.get("/api/users/43").text == "43"
    assert c.get("/api/nothing").status_code == 404
    assert c.post("/items/1").status_code == 405
    assert c.request("BREW", "/items/1").status_code == 405
    assert c.get("/static/css/site.css").text == "a file"
    monitor.flush()
    validate_wire(memory.records)
    assert summary(memory) == {
        "GET /items/{item_id:int}": (3, {}, 0),
        "GET /boom": (1, {"tests.sdk.test_middleware.ModelError": 1}, 0),
        "GET /busy": (1, {"HTTP 503": 1}, 0),
        "GET /bad": (1, {}, 1),
        "GET (unmatched)": (2, {}, 2),
        "GET /api/users/{uid}": (2, {}, 0),
        "POST /items/{item_id:int}": (1, {}, 1),
        "OTHER /items/{item_id:int}": (1, {}, 1),
        "GET /static": (1, {}, 0),
    }


def test_streaming_responses_are_timed_to_the_last_byte(
    starlette_client: TestClient, monitor: Monitor, memory: MemoryTransport
) -> None:
    started = time.perf_counter()
    assert starlette_client.get("/stream").content == b"chunk" * 3
    elapsed = time.perf_counter() - started
    monitor.flush()
    (w,) = memory.windows("GET /stream")
    # Three 30 ms pauses between chunks are inside the measured time.
    assert 0.09 <= latency(w).max <= elapsed * 1.01


def test_non_http_scopes_pass_through(monitor: Monitor, memory: MemoryTransport) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(monitor.asgi(app)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    monitor.flush()
    assert seen == ["lifespan"] and memory.windows() == []


# -- CPU time of ASGI requests ---------------------------------------------------------------


def burn(seconds: float) -> float:
    """Spin this thread for ``seconds`` of its CPU time; return the CPU it used (measured
    here, independently of the middleware)."""
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass
    return time.thread_time() - start


def cpu_app(used: dict[str, float]) -> Starlette:
    async def spin(request: Request) -> PlainTextResponse:
        used["spin"] = burn(0.05)
        await asyncio.sleep(0.05)  # meanwhile another request runs on the loop
        return PlainTextResponse("spun")

    async def waits(request: Request) -> PlainTextResponse:
        await asyncio.sleep(0.2)
        return PlainTextResponse("waited")

    async def after(request: Request) -> PlainTextResponse:
        from starlette.background import BackgroundTask

        def later() -> None:
            used["background"] = burn(0.05)

        return PlainTextResponse("sent", background=BackgroundTask(later))

    return Starlette(
        routes=[
            Route("/spin", spin),
            Route("/waits", waits),
            Route("/after", after),
        ]
    )


async def _request(app: Any, path: str) -> int:
    """Drive one GET through an ASGI app; return the response status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "server": ("test", 80),
        "client": ("test", 1),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def test_asgi_cpu_is_the_requests_own_not_its_neighbours(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    used: dict[str, float] = {}
    app = monitor.asgi(cpu_app(used), cpu_sample_interval=0.0)

    async def both() -> None:
        # /waits sleeps on the loop while /spin burns 50 ms of the same thread's CPU.
        assert await asyncio.gather(_request(app, "/waits"), _request(app, "/spin")) == [
            200,
            200,
        ]

    asyncio.run(both())
    monitor.flush()
    (spin,) = memory.windows("GET /spin")
    (waits,) = memory.windows("GET /waits")
    assert cpu(spin).count == 1 and cpu(waits).count == 1
    # The request that burned is charged what it burned (measured inside it), within the
    # sketch's 1 % and a little framework work; the one that waited alongside is not.
    assert used["spin"] * 0.99 <= spin["cpu_seconds"] <= used["spin"] + 0.01
    assert waits["cpu_seconds"] < 0.01


def test_asgi_cpu_stops_at_the_last_byte(monitor: Monitor, memory: MemoryTransport) -> None:
    used: dict[str, float] = {}
    app = monitor.asgi(cpu_app(used), cpu_sample_interval=0.0)
    assert asyncio.run(_request(app, "/after")) == 200
    monitor.flush()
    (w,) = memory.windows("GET /after")
    assert used["background"] >= 0.05  # the background task ran, after the response
    assert w["cpu_seconds"] < 0.01


def test_asgi_cpu_is_sampled_and_scaled_up_to_every_request(memory: MemoryTransport) -> None:
    timer = [100.0]
    m = Monitor("svc", transport=memory, background=False, nvml=False, timer=lambda: timer[0])
    used: dict[str, float] = {}
    app = m.asgi(cpu_app(used), cpu_sample_interval=1.0)

    async def requests() -> list[float]:
        spent = []
        for k in range(6):
            timer[0] = 100.0 + 0.4 * k  # starts at 0, 0.4, 0.8, 1.2, 1.6, 2.0 s
            await _request(app, "/spin")
            spent.append(used["spin"])
        return spent

    spent = asyncio.run(requests())
    m.flush()
    windows = memory.windows("GET /spin")
    calls = sum(w["calls"] for w in windows)
    measured = sum(cpu(w).count for w in windows)
    # Measured: the requests at 0 and 1.2 s, each the first to start a second or more after
    # the last measured one.
    assert (calls, measured) == (6, 2)
    # Each window scales its measured requests up to all of its requests.
    total = sum(w["cpu_seconds"] for w in windows)
    sampled = [spent[0], spent[3]]
    assert 6 * min(sampled) * 0.99 <= total <= 6 * (max(sampled) + 0.005)
    m.close()


# -- FastAPI -------------------------------------------------------------------------------


class Features(BaseModel):
    values: list[float]


def fastapi_app(monitor: Monitor) -> FastAPI:
    app = FastAPI()
    app.add_middleware(AsgiMiddleware, monitor=monitor)

    @app.get("/models/{name}")
    async def model(name: str) -> dict[str, str]:
        if name == "missing":
            raise HTTPException(status_code=404, detail="no such model")
        return {"name": name}

    @app.post("/score")
    def score(features: Features) -> dict[str, float]:
        if not features.values:
            raise ModelError("empty")
        return {"score": sum(features.values)}

    app.mount("/metrics", monitor.metrics_app())
    return app


def test_fastapi_middleware(monitor: Monitor, memory: MemoryTransport) -> None:
    with TestClient(fastapi_app(monitor), raise_server_exceptions=False) as c:
        assert c.get("/models/iris").json() == {"name": "iris"}
        assert c.get("/models/missing").status_code == 404
        assert c.post("/score", json={"values": [1, 2]}).json() == {"score": 3.0}
        assert c.post("/score", json={"values": "x"}).status_code == 422
        assert c.post("/score", json={"values": []}).status_code == 500
    monitor.flush()
    validate_wire(memory.records)
    assert summary(memory) == {
        "GET /models/{name}": (2, {}, 1),
        "POST /score": (3, {"tests.sdk.test_middleware.ModelError": 1}, 1),
    }


# -- scrapes and health checks are not traffic ---------------------------------------------


def assert_exposition(response: Any, calls: int) -> None:
    """A 200 answer holding the monitor's exposition, with ``calls`` ok calls of predict."""
    assert response.status_code == 200, (response.status_code, response.headers)
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    ok = [
        s.value
        for s in families["mlvitals_calls"].samples
        if s.name == "mlvitals_calls_total" and s.labels["outcome"] == "ok"
    ]
    assert ok == [calls]


def test_scrapes_of_the_documented_fastapi_mount_are_answered_and_not_counted(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    app = FastAPI()  # exactly as docs/sdk.md sets it up
    app.add_middleware(AsgiMiddleware, monitor=monitor, exclude=["/healthz"])
    app.mount("/metrics", monitor.metrics_app())

    @app.post("/predict")
    async def predict() -> dict[str, float]:
        return {"score": 0.5}

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app, follow_redirects=False) as c:
        for _ in range(3):
            assert c.post("/predict").status_code == 200
        for _ in range(4):
            assert c.get("/healthz").json() == {"ok": True}
        # Prometheus scrapes /metrics: answered as is, not redirected to /metrics/.
        for _ in range(2):
            assert_exposition(c.get("/metrics"), 3)
        assert_exposition(c.get("/metrics/"), 3)
    monitor.flush()
    assert summary(memory) == {"POST /predict": (3, {}, 0)}


def test_scrapes_and_excluded_paths_of_a_wrapped_starlette_app_are_not_counted(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    inner = starlette_app()
    inner.router.routes.append(Route("/ready", lambda request: PlainTextResponse("ready")))
    app = monitor.asgi(inner, exclude=["/ready", "/static"])
    with TestClient(app, follow_redirects=False) as c:
        assert c.get("/items/1").json() == {"id": 1}
        assert c.get("/ready").text == "ready"
        assert c.get("/static/site.css").text == "a file"  # under an excluded path
        assert_exposition(c.get("/metrics"), 1)
        assert c.get("/readyz").status_code == 404  # a sibling of /ready still counts
    monitor.flush()
    assert summary(memory) == {
        "GET /items/{item_id:int}": (1, {}, 0),
        "GET (unmatched)": (1, {}, 1),
    }


def test_flask_scrapes_and_excluded_paths_are_not_counted(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    app = flask_app()
    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    app.wsgi_app = monitor.wsgi(app.wsgi_app, exclude=["/healthz"])  # type: ignore[method-assign]
    c = app.test_client()
    assert c.get("/items/1", buffered=True).json == {"id": 1}
    assert c.get("/healthz", buffered=True).text == "ok"
    assert_exposition(c.get("/metrics", buffered=True), 1)
    monitor.flush()
    assert summary(memory) == {"GET /items/<int:item_id>": (1, {}, 0)}


def test_the_metrics_path_can_be_moved_or_left_to_the_app(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    inner = starlette_app()
    inner.router.routes.append(Route("/metrics", lambda request: PlainTextResponse("mine")))
    with TestClient(monitor.asgi(inner, metrics_path=None)) as c:
        assert c.get("/metrics").text == "mine"  # the app's own endpoint, counted
    with TestClient(monitor.asgi(inner, metrics_path="/internal/metrics")) as c:
        assert_exposition(c.get("/internal/metrics"), 1)
    monitor.flush()
    assert summary(memory) == {"GET /metrics": (1, {}, 0)}


def test_bad_exclusions_are_refused(monitor: Monitor) -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        monitor.asgi(starlette_app(), exclude=["healthz"])
    with pytest.raises(ValueError, match="must start with '/'"):
        monitor.wsgi(flask_app().wsgi_app, metrics_path="metrics")


# -- Flask ---------------------------------------------------------------------------------


def flask_app() -> Flask:
    app = Flask("mlvitals-test")

    @app.get("/items/<int:item_id>")
    def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.post("/predict")
    def predict() -> dict[str, str]:
        raise ModelError("broken")

    @app.get("/forbidden")
    def forbidden() -> str:
        abort(403)

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            for _ in range(3):
                time.sleep(0.03)
                yield "chunk"

        return Response(stream_with_context(chunks()))

    return app


def test_flask_middleware(monitor: Monitor, memory: MemoryTransport) -> None:
    app = flask_app()
    app.wsgi_app = monitor.wsgi(app.wsgi_app)  # type: ignore[method-assign]
    c = app.test_client()
    # buffered: the client reads and closes each response the way a WSGI server does.
    for i in range(3):
        assert c.get(f"/items/{i}", buffered=True).json == {"id": i}
    assert c.post("/predict", buffered=True).status_code == 500  # Flask's answer to it
    assert c.get("/forbidden", buffered=True).status_code == 403
    assert c.get("/nowhere", buffered=True).status_code == 404
    started = time.perf_counter()
    assert c.get("/stream", buffered=True).data == b"chunk" * 3
    elapsed = time.perf_counter() - started
    monitor.flush()
    validate_wire(memory.records)
    assert summary(memory) == {
        "GET /items/<int:item_id>": (3, {}, 0),
        "POST /predict": (1, {"HTTP 500": 1}, 0),
        "GET /forbidden": (1, {}, 1),
        "GET (unmatched)": (1, {}, 1),
        "GET /stream": (1, {}, 0),
    }
    (w,) = memory.windows("GET /stream")
    assert 0.09 <= latency(w).max <= elapsed * 1.01


def test_flask_propagated_exceptions_are_recorded_by_type(
    monitor: Monitor, memory: MemoryTransport
) -> None:
    app = flask_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.wsgi_app = monitor.wsgi(app.wsgi_app)  # type: ignore[method-assign]
    with pytest.raises(ModelError):
        app.test_client().post("/predict", buffered=True)
    monitor.flush()
    assert summary(memory) == {"POST /predict": (1, {"tests.sdk.test_middleware.ModelError": 1}, 0)}


def test_wsgi_route_hook_for_other_frameworks(monitor: Monitor, memory: MemoryTransport) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    wrapped = monitor.wsgi(app, route=lambda environ: "/orders/{id}")
    statuses: list[str] = []
    body = wrapped({"REQUEST_METHOD": "GET"}, lambda s, h, e=None: statuses.append(s))
    assert b"".join(body) == b"ok"
    body.close()  # type: ignore[attr-defined]
    monitor.flush()
    assert statuses == ["200 OK"]
    assert summary(memory) == {"GET /orders/{id}": (1, {}, 0)}
