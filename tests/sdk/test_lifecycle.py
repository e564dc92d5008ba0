"""When a process is a service instance, and how it says it stopped.

A monitor used only for runs, steps and data checks is a batch job, not a service: it sends
no serving records, so the server never expects it to keep reporting. A monitor becomes a
service instance at its first tracked call, when a middleware wraps an app, or with
``serving=True``; from then on it reports every window, and a clean shutdown (``close()``,
interpreter exit, an ASGI server's lifespan shutdown) ends with a sample saying it stopped.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mlvitals import Monitor
from mlvitals.errors import ConfigError
from mlvitals.sdk.instance import default_instance
from tests.sdk.conftest import FakeClock, MemoryTransport, validate_wire


def monitor(memory: MemoryTransport, clock: FakeClock, **kw: Any) -> Monitor:
    return Monitor(
        "svc",
        version="1",
        transport=memory,
        background=False,
        nvml=False,
        clock=clock,
        window=10.0,
        **kw,
    )


def serving_kinds(memory: MemoryTransport) -> list[str]:
    return [r["kind"] for r in memory.records if r["kind"] in ("serving_window", "instance_sample")]


def test_a_monitor_used_only_for_runs_and_checks_sends_no_serving_records(
    memory: MemoryTransport,
) -> None:
    clock = FakeClock(1_000.0)
    m = monitor(memory, clock)
    with m.run("nightly-features") as run, run.step("load"):
        pass
    ref = pd.DataFrame({"age": [30, 40, 50, 60] * 50})
    m.check(ref, reference=ref, dataset="users")
    for _ in range(5):
        clock.advance(10.0)
        m.collect()
    assert m.close()
    kinds = {r["kind"] for r in memory.records}
    assert {"run", "step", "check_result"} <= kinds
    assert serving_kinds(memory) == []


def test_a_monitor_becomes_a_service_instance_at_its_first_call(memory: MemoryTransport) -> None:
    clock = FakeClock(1_000.0)
    m = monitor(memory, clock)
    clock.advance(10.0)
    m.collect()
    assert serving_kinds(memory) == []
    with m.track("predict"):
        pass
    clock.advance(10.0)
    m.collect()
    assert serving_kinds(memory) == ["serving_window", "instance_sample"]
    for _ in range(2):  # an idle service instance goes on reporting: its liveness
        clock.advance(10.0)
        m.collect()
    assert serving_kinds(memory)[2:] == ["instance_sample", "instance_sample"]
    m.close()


@pytest.mark.parametrize("how", ["serving", "asgi", "wsgi"])
def test_a_declared_service_reports_before_its_first_call(
    memory: MemoryTransport, how: str
) -> None:
    clock = FakeClock(1_000.0)
    m = monitor(memory, clock, serving=how == "serving")
    if how == "asgi":
        m.asgi(Starlette())
    elif how == "wsgi":
        m.wsgi(lambda environ, start_response: [])
    clock.advance(10.0)
    m.collect()
    assert serving_kinds(memory) == ["instance_sample"]
    m.close()


def test_close_says_that_a_service_instance_stopped(memory: MemoryTransport) -> None:
    clock = FakeClock(1_000.0)
    m = monitor(memory, clock)
    with m.track("predict"):
        pass
    clock.advance(10.0)
    m.collect()  # the window closes at 1010 with a sample at 1010
    assert m.close()  # the clock has not moved: the stop still gets a sample of its own
    validate_wire(memory.records)
    samples = memory.samples()
    assert [s.get("stopped", False) for s in samples] == [False, True]
    assert samples[-1]["time"] > samples[0]["time"]
    assert samples[-1] is memory.records[-1]


def test_a_lifespan_shutdown_says_the_instance_stopped_and_later_calls_still_count(
    memory: MemoryTransport,
) -> None:
    clock = FakeClock(1_000.0)
    m = monitor(memory, clock)

    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = m.asgi(Starlette(routes=[Route("/ok", ok)]))
    with TestClient(app) as client:  # startup, one request, shutdown
        assert client.get("/ok").text == "ok"
    assert memory.samples()[-1].get("stopped") is True
    with TestClient(app) as client:  # the same process serves again: it reports again
        clock.advance(1.0)
        assert client.get("/ok").text == "ok"
        clock.advance(10.0)
        m.collect()
    assert sum(w["calls"] for w in memory.windows("GET /ok")) == 2
    assert m.close()
    validate_wire(memory.records)


def test_the_instance_name_comes_from_the_argument_the_environment_or_the_platform(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLVITALS_INSTANCE", raising=False)
    assert default_instance(pid=1, hostname="fraud-model-7d9c-x2") == "fraud-model-7d9c-x2"
    assert default_instance(pid=4242, hostname="box") == "box:4242"
    monkeypatch.setenv("MLVITALS_INSTANCE", "replica-3")
    m = Monitor("svc", background=False, nvml=False)
    assert m.instance == "replica-3"
    m.close()
    m = Monitor("svc", instance="given", background=False, nvml=False)
    assert m.instance == "given"  # the argument wins over the environment
    m.close()


@pytest.mark.parametrize("name", ["", "x" * 201])
def test_a_bad_instance_name_is_refused(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="instance must be 1-200 characters"):
        Monitor("svc", instance=name, background=False, nvml=False)
    monkeypatch.setenv("MLVITALS_INSTANCE", "y" * 201)
    with pytest.raises(ConfigError, match="MLVITALS_INSTANCE"):
        Monitor("svc", background=False, nvml=False)
