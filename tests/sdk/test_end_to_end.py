"""The SDK ships to the real mlvitals server (uvicorn on a free port); rows land in the store."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import uvicorn

from mlvitals import Monitor
from mlvitals.server import create_app
from mlvitals.server.database import open_database
from mlvitals.settings import Settings
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store
from tests.sdk.conftest import free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    store = open_database(str(tmp_path / "mlvitals.db"))
    app = create_app(Settings(tokens="sdk-token:ingest"), store, background=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


class ModelError(Exception):
    pass


def test_windows_and_samples_are_stored_and_read_back(served: tuple[str, Store]) -> None:
    url, store = served
    m = Monitor("fraud-model", version="2.3.1", server=url, token="sdk-token", nvml=False)
    sleeps = [0.001, 0.002, 0.004, 0.008, 0.016] * 2

    @m.track("predict")
    def predict(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    for s in sleeps:
        predict(s)
    for _ in range(3):
        with pytest.raises(ModelError), m.track("predict"):
            raise ModelError("bad row")
    assert m.flush(10)
    assert m.close(10)
    assert m.dropped_records == 0

    rows = store.fetch(
        "SELECT service, version, operation, instance, calls, errors, failures, latency,"
        " cpu_seconds, peak_rss_bytes FROM serving_windows"
    )
    assert {(r["service"], r["version"], r["operation"], r["instance"]) for r in rows} == {
        ("fraud-model", "2.3.1", "predict", m.instance)
    }
    assert sum(r["calls"] for r in rows) == len(sleeps) + 3
    assert sum(r["errors"] for r in rows) == 3
    failures: dict[str, int] = {}
    for r in rows:
        for k, v in json.loads(r["failures"]).items():
            failures[k] = failures.get(k, 0) + v
    assert failures == {"tests.sdk.test_end_to_end.ModelError": 3}
    assert all(r["peak_rss_bytes"] > 0 for r in rows)

    merged = QuantileSketch()
    for r in rows:
        merged.merge(QuantileSketch.from_dict(json.loads(r["latency"])))
    assert merged.count == len(sleeps) + 3
    # The slowest calls slept 16 ms: the p99 is at least that, and not far above it.
    assert 0.016 <= merged.quantile(1.0) < 0.1
    assert merged.quantile(0.5) >= float(np.quantile(sleeps, 0.2))

    samples = store.fetch(
        "SELECT instance, rss_bytes, process_start, cpu_cores_allocated,"
        " memory_allocated_bytes FROM instance_samples"
    )
    assert samples and {s["instance"] for s in samples} == {m.instance}
    for s in samples:
        assert s["rss_bytes"] > 0 and s["process_start"] > 0
        assert s["cpu_cores_allocated"] > 0 and s["memory_allocated_bytes"] > 0


def test_a_wrong_token_is_refused_not_retried(
    served: tuple[str, Store], caplog: pytest.LogCaptureFixture
) -> None:
    url, store = served
    m = Monitor("fraud-model", server=url, token="wrong", nvml=False)
    m.track("predict")(lambda: None)()
    assert m.flush(10)  # refused counts as done: retrying cannot help
    m.close(5)
    assert "answered HTTP 401" in caplog.text and "refused by the server" in caplog.text
    assert store.fetch("SELECT COUNT(*) AS n FROM serving_windows")[0]["n"] == 0
