"""OTLP/HTTP metrics in: ``POST /v1/metrics`` is under the ingest scope like
``/api/v1/ingest``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.conftest import ServerProcess


def test_otlp_without_a_token_is_refused(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(str(tmp_path / "m.db"), "--tokens=ingest-token-1:ingest")
    reply = httpx.post(
        f"{server.url}/v1/metrics", content=b"", headers={"Content-Type": "application/x-protobuf"}
    )
    assert reply.status_code == 401


# --- end to end: the real OTLP/HTTP exporter and an instrumented FastAPI app ---------------

CALLS, ERRORS, CLIENT_ERRORS = 120, 12, 6


class FakeTimer:
    """Stands in for the ASGI instrumentation's clock; the app's handler advances it by the
    duration scripted for its request, so the test knows every duration recorded."""

    def __init__(self, durations: list[float]) -> None:
        self.durations = durations
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def spend(self, n: int) -> None:
        self.now += self.durations[n - 1]


def _instrumented_app(provider: Any, timer: FakeTimer) -> Any:
    from fastapi import FastAPI, HTTPException
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    app = FastAPI()

    @app.get("/predict/{n}")
    def predict(n: int) -> dict[str, int]:
        timer.spend(n)
        if n % 10 == 0:
            raise RuntimeError("model crashed")  # an unhandled exception: a 500
        if n % 20 == 5:
            raise HTTPException(status_code=422, detail="bad features")
        return {"n": n}

    FastAPIInstrumentor.instrument_app(app, meter_provider=provider)
    return app


@pytest.mark.slow
@pytest.mark.parametrize("exponential", [False, True], ids=["explicit", "exponential"])
@pytest.mark.parametrize("delta", [False, True], ids=["cumulative", "delta"])
def test_otel_instrumented_fastapi_app_reports_exact_counts_and_p95(
    server_factory: type[ServerProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exponential: bool,
    delta: bool,
) -> None:
    from fastapi.testclient import TestClient
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.instrumentation import _semconv
    from opentelemetry.instrumentation.asgi import __name__ as asgi_module
    from opentelemetry.sdk.metrics import Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import (
        AggregationTemporality,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.metrics.view import (
        ExplicitBucketHistogramAggregation,
        ExponentialBucketHistogramAggregation,
    )
    from opentelemetry.sdk.resources import Resource

    # The stable HTTP conventions: http.server.request.duration in seconds.
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    monkeypatch.setattr(_semconv._OpenTelemetrySemanticConventionStability, "_initialized", False)
    rng = np.random.default_rng(7)
    durations = list(rng.lognormal(mean=np.log(0.03), sigma=0.6, size=CALLS))
    timer = FakeTimer(durations)
    monkeypatch.setattr(f"{asgi_module}.default_timer", timer)

    server = server_factory(
        str(tmp_path / "m.db"), "--tokens=ingest-token-1:ingest;read-token-1:read"
    )
    exporter = OTLPMetricExporter(
        endpoint=f"{server.url}/v1/metrics",
        headers={"Authorization": "Bearer ingest-token-1"},
        preferred_temporality={
            Histogram: AggregationTemporality.DELTA if delta else AggregationTemporality.CUMULATIVE
        },
        preferred_aggregation={
            Histogram: ExponentialBucketHistogramAggregation()
            if exponential
            else ExplicitBucketHistogramAggregation()
        },
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create(
        {"service.name": "otel-app", "service.version": "2.1", "service.instance.id": "pod-a"}
    )
    provider = MeterProvider(metric_readers=[reader], resource=resource)
    app = _instrumented_app(provider, timer)
    with TestClient(app, raise_server_exceptions=False) as client:
        for n in range(1, CALLS + 1):
            client.get(f"/predict/{n}")
            if n % 50 == 0:  # a few exports along the way, the last one at shutdown
                assert provider.force_flush()
    provider.shutdown()

    reply = httpx.get(
        f"{server.url}/api/v1/services/otel-app/series",
        params={"start": "0", "group_by": "version,instance"},
        headers={"Authorization": "Bearer read-token-1"},
    )
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    total = answer["total"]
    assert total["calls"] == CALLS
    assert total["errors"] == ERRORS
    assert total["failures"] == {"HTTP 500": ERRORS}
    assert total["client_errors"] == CLIENT_ERRORS
    assert {tuple(sorted(s["labels"].items())) for s in answer["series"]} == {
        (("instance", "pod-a"), ("version", "2.1"))
    }
    # p95 against numpy over the durations the instrumentation recorded, within the bound
    # stated in sketches/from_buckets: the histogram bucket holding the true p95, widened
    # by the sketch's 1 %.
    truth = float(np.quantile(durations, 0.95, method="inverted_cdf"))
    if exponential:
        scale = 4  # 160 buckets cover these durations at scale 4 (the SDK's default size)
        ratio = 2.0 ** (2.0**-scale)
    else:
        bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0]
        lo = max(b for b in bounds if b < truth)
        hi = min(b for b in bounds if b >= truth)
        ratio = hi / lo
    bound = ratio * 1.01 - 1
    assert abs(total["latency_p95"] / truth - 1) <= bound, (total["latency_p95"], truth, bound)
