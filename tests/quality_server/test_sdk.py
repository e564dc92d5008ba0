"""The SDK side: records from engine results, fitting under the size limit, and
``Monitor.profile`` / ``Monitor.check`` shipping through the monitor."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlvitals import Monitor
from mlvitals.errors import ConfigError
from mlvitals.quality import profile
from mlvitals.sdk.quality import data_bytes, fit, profile_record
from mlvitals.server.quality.histograms import column_histograms
from tests.quality_server.helpers import T0, frames, record, validate


class Keep:
    """A transport that keeps what it is sent."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def send(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(records)

    def flush(self, timeout: float) -> bool:
        return True

    def close(self, timeout: float) -> bool:
        return True

    def after_fork(self) -> None:
        pass


def test_monitor_check_returns_the_engine_result_and_ships_it() -> None:
    keep = Keep()
    monitor = Monitor("etl", transport=keep, background=False, clock=lambda: T0)
    current, reference = frames(shift=1.0)
    result = monitor.check(current, reference=reference, dataset="features")
    monitor.close()
    assert not result.passed and [c.column for c in result.drift.drifted] == ["income"]
    (rec,) = [r for r in keep.records if r["kind"] == "check_result"]
    assert (rec["dataset"], rec["time"], rec["run_id"], rec["trimmed"]) == (
        "features",
        T0,
        None,
        [],
    )
    assert rec["result"] == json.loads(result.to_json())
    # Bytes in memory of the DataFrame that was checked.
    assert rec["bytes"] == int(current.memory_usage(index=False, deep=True).sum())
    assert validate([rec]).accepted_by_kind == {"check_result": 1}


def test_inside_a_run_the_records_name_the_run_and_the_step() -> None:
    keep = Keep()
    monitor = Monitor("etl", transport=keep, background=False)
    current, reference = frames()
    with monitor.run("nightly") as run:
        whole = monitor.profile(reference, dataset="reference")
        with monitor.step("validate") as step:
            monitor.check(current, reference=reference, dataset="features")
    monitor.close()
    assert whole.rows == 1500
    quality = {
        r["kind"]: r for r in keep.records if r["kind"] in ("dataset_profile", "check_result")
    }
    assert (quality["dataset_profile"]["run_id"], quality["dataset_profile"]["step_id"]) == (
        run.id,
        None,
    )
    assert (quality["check_result"]["run_id"], quality["check_result"]["step_id"]) == (
        run.id,
        step.id,
    )


def test_a_bad_dataset_name_fails_before_the_work() -> None:
    monitor = Monitor("etl", transport=Keep(), background=False)
    with pytest.raises(ConfigError, match="dataset must be a name of 1-500 characters"):
        monitor.check(object(), reference=object(), dataset="")
    monitor.close()


def test_a_dead_server_never_fails_the_check_and_the_record_counts_as_dropped() -> None:
    idle = Monitor("etl", server="http://127.0.0.1:9", background=False)
    idle.close(timeout=0.2)
    monitor = Monitor("etl", server="http://127.0.0.1:9", background=False)
    current, reference = frames()
    assert monitor.check(current, reference=reference, dataset="features").passed
    assert monitor.close(timeout=0.2) is False  # the record could not be shipped
    assert monitor.dropped_records == idle.dropped_records + 1


def _wide(columns: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({f"c{i}": rng.normal(size=300) for i in range(columns)})


def test_fit_sheds_correlations_then_sketches_and_the_server_still_reads_it() -> None:
    prof = profile(_wide(40))
    rec = profile_record(prof, dataset="wide", time=T0)
    size = len(json.dumps(rec["profile"], separators=(",", ":")))
    no_corr = {k: v for k, v in rec["profile"].items() if k != "correlation"}
    without = len(json.dumps(no_corr, separators=(",", ":")))
    assert fit(rec, limit=size) is rec  # fits: untouched
    lighter = fit(rec, limit=without)
    assert lighter is not None and lighter["trimmed"] == ["correlation"]
    lightest = fit(rec, limit=without - 1)
    assert lightest is not None and lightest["trimmed"] == ["correlation", "sketches"]
    assert all("sketches" not in c for c in lightest["profile"]["columns"])
    assert rec["trimmed"] == [] and "correlation" in rec["profile"]  # the input is unchanged
    assert validate([lightest]).accepted_by_kind == {"dataset_profile": 1}
    # The readable histograms survive: counts per bin as numpy counts them.
    (first, *_) = column_histograms(lightest["profile"])
    edges = prof.column("c0").histogram.edges  # type: ignore[union-attr]
    values = _wide(40)["c0"].to_numpy()
    expected = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    assert [b["current"] for b in first["bins"]] == expected.tolist()
    assert fit(rec, limit=100) is None


def test_fit_trims_both_profiles_of_a_check() -> None:
    rec = record("good")
    small = fit(rec, limit=20_000)
    assert small is not None and small["trimmed"] == ["correlation", "sketches"]
    for key in ("profile", "reference_profile"):
        assert all("sketches" not in c for c in small["result"][key]["columns"])
    assert small["result"]["drift"] == rec["result"]["drift"]
    assert validate([small]).accepted_by_kind == {"check_result": 1}


def test_data_bytes(tmp_path: Path) -> None:
    table = pa.table({"x": np.arange(1000, dtype=np.float64)})
    assert data_bytes(table) == 8000
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.csv").write_text("x\n22\n")
    (tmp_path / "_SUCCESS").write_text("marker")
    assert data_bytes(tmp_path) == 4 + 5
    assert data_bytes(tmp_path / "a.csv") == 4
    assert data_bytes(str(tmp_path / "missing.csv")) is None
    assert data_bytes(object()) is None


class _Capture:
    """A local ingest endpoint that records how many records each POST carried."""

    def __init__(self) -> None:
        self.posts: list[list[dict[str, Any]]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                capture.posts.append(json.loads(body)["records"])
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def capture() -> Iterator[_Capture]:
    c = _Capture()
    yield c
    c.server.shutdown()
    c.server.server_close()


def test_quality_records_travel_one_per_request_apart_from_serving_windows(
    capture: _Capture,
) -> None:
    # A batch of several megabyte-sized records could pass the server's body limit and be
    # refused whole: each quality record goes alone.
    monitor = Monitor("etl", server=capture.url, background=False)
    current, reference = frames()

    @monitor.track
    def predict(x: float) -> float:
        return x

    for _ in range(5):
        predict(1.0)
    monitor.check(current, reference=reference, dataset="a")
    monitor.profile(current, dataset="b")
    monitor.check(current, reference=reference, dataset="c")
    assert monitor.close(timeout=10.0)
    kinds = [[r["kind"] for r in post] for post in capture.posts]
    quality = [k for k in kinds if {"check_result", "dataset_profile"} & set(k)]
    assert sorted(k[0] for k in quality) == ["check_result", "check_result", "dataset_profile"]
    assert all(len(k) == 1 for k in quality)
    assert any("serving_window" in k for k in kinds)
