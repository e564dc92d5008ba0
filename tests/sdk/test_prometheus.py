"""Prometheus exposition, parsed back with prometheus-client's own parser."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from mlvitals import Monitor
from mlvitals.sketches import DEFAULT_BOUNDS
from tests.sdk.conftest import FakeClock, MemoryTransport

OK_LATENCIES = [0.002, 0.02, 0.02, 0.2, 3.0]
FAILED_LATENCY = 0.45
CLIENT_ERROR_LATENCY = 0.03


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(parsed: dict[Any, float], name: str, **labels: str) -> float:
    return parsed[(name, tuple(sorted(labels.items())))]


def ok_calls(parsed: dict[Any, float], operation: str) -> float:
    key = (
        "mlvitals_calls_total",
        (("operation", operation), ("outcome", "ok"), ("service", "svc"), ("version", "")),
    )
    return parsed.get(key, 0.0)


def scrape(m: Monitor) -> dict[Any, float]:
    return samples(generate_latest(m.prometheus_registry).decode())


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock(1_000.0)


@pytest.fixture
def busy_monitor(memory: MemoryTransport, fake: FakeClock) -> Any:
    m = Monitor(
        "svc",
        version="1.0",
        transport=memory,
        background=False,
        nvml=False,
        clock=fake,
        timer=fake,
        cpu_timer=lambda: 0.0,
        cpu_sample_interval=0,  # the CPU histogram below holds every call
    )
    for seconds in OK_LATENCIES:
        with m.track("predict"):
            fake.advance(seconds)
    for _ in range(2):
        with pytest.raises(ValueError), m.track("predict"):
            fake.advance(FAILED_LATENCY)
            raise ValueError

    def not_found(environ: Any, start_response: Any) -> list[bytes]:
        fake.advance(CLIENT_ERROR_LATENCY)
        start_response("404 Not Found", [])
        return [b""]

    body = m.wsgi(not_found, route=lambda environ: "predict")({"REQUEST_METHOD": "GET"}, print)
    list(body)
    yield m
    m.close()


def test_counts_by_outcome_and_error_type_are_exact(busy_monitor: Monitor) -> None:
    p = scrape(busy_monitor)  # before any window closed: the calls still in the buffers
    base = {"service": "svc", "version": "1.0", "operation": "predict"}
    assert value(p, "mlvitals_calls_total", **base, outcome="ok") == 5
    assert value(p, "mlvitals_calls_total", **base, outcome="error") == 2
    assert value(p, "mlvitals_calls_total", **base, outcome="client_error") == 0
    assert value(p, "mlvitals_call_failures_total", **base, error_type="ValueError") == 2
    web = {**base, "operation": "GET predict"}
    assert value(p, "mlvitals_calls_total", **web, outcome="client_error") == 1

    # Closing windows moves the calls from the buffers to the totals: same numbers.
    busy_monitor.flush()
    again = scrape(busy_monitor)
    for key, v in p.items():
        if key[0].startswith("mlvitals_call"):
            assert again[key] == v, key


def test_histograms_match_exact_bucket_counts(busy_monitor: Monitor) -> None:
    p = scrape(busy_monitor)
    base = {"service": "svc", "version": "1.0", "operation": "predict"}
    latencies = np.array([*OK_LATENCIES, FAILED_LATENCY, FAILED_LATENCY])
    for bound in DEFAULT_BOUNDS:
        expected = int((latencies <= bound).sum())
        # Only a value within the sketch's 1 % of a bound may land on its other side.
        near = int(((latencies >= bound / 1.01) & (latencies <= bound / 0.99)).sum())
        got = value(p, "mlvitals_call_duration_seconds_bucket", **base, le=repr(bound))
        assert abs(got - expected) <= near, bound
    assert value(p, "mlvitals_call_duration_seconds_bucket", **base, le="+Inf") == 7
    assert value(p, "mlvitals_call_duration_seconds_count", **base) == 7
    assert value(p, "mlvitals_call_duration_seconds_sum", **base) == pytest.approx(latencies.sum())
    # CPU time was 0 for every call: all in the first bucket.
    assert value(p, "mlvitals_call_cpu_seconds_bucket", **base, le=repr(DEFAULT_BOUNDS[0])) == 7
    assert value(p, "mlvitals_call_cpu_seconds_sum", **base) == 0


def test_resource_and_sdk_metrics(busy_monitor: Monitor) -> None:
    busy_monitor.collect()  # one resource tick
    p = scrape(busy_monitor)
    rss = value(p, "mlvitals_process_resident_memory_bytes", service="svc", version="1.0")
    assert rss > 10_000_000
    assert value(p, "mlvitals_sdk_folded_calls_total", service="svc", version="1.0") == 0
    assert value(p, "mlvitals_sdk_dropped_records_total", service="svc", version="1.0") == 0
    assert not any(k[0].startswith("mlvitals_gpu") for k in p)  # no GPU here: no samples


def test_counters_never_go_back_while_windows_close(
    memory: MemoryTransport, fake: FakeClock
) -> None:
    m = Monitor("svc", transport=memory, background=False, nvml=False, clock=fake)
    f = m.track("f")(lambda: None)
    seen = 0.0
    for step in range(20):
        for _ in range(step):
            f()
        if step % 3 == 0:
            fake.advance(10)
            m.collect()
        now = ok_calls(scrape(m), "f")
        assert now == seen + step
        seen = now
    m.close()


def test_metrics_app_serves_the_exposition(busy_monitor: Monitor) -> None:
    with TestClient(busy_monitor.metrics_app()) as c:
        r = c.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    p = samples(r.text)
    assert (
        value(
            p,
            "mlvitals_calls_total",
            service="svc",
            version="1.0",
            operation="predict",
            outcome="ok",
        )
        == 5
    )


def test_an_injected_registry_gets_the_metrics(memory: MemoryTransport) -> None:
    registry = CollectorRegistry()
    m = Monitor("svc", transport=memory, background=False, nvml=False, registry=registry)
    m.track("f")(lambda: None)()
    assert m.prometheus_registry is registry
    p = samples(generate_latest(registry).decode())
    assert (
        value(p, "mlvitals_calls_total", service="svc", version="", operation="f", outcome="ok")
        == 1
    )
    m.close()
