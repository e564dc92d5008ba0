"""Serving queries: merged percentiles equal those of all calls, rollups agree with raw."""

from __future__ import annotations

import json
import uuid
from typing import Any

import numpy as np
import pytest

from mlvitals.server.ingest import validate_envelope
from mlvitals.server.serving.queries import SeriesQuery, serving_series, serving_total
from mlvitals.server.serving.rollup import Retention, apply_retention, roll_up, rollup_state
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store

T0 = 472_222 * 3600.0  # on an hour boundary
ALPHA = 0.01


def window_row(
    instance: str, start: float, latencies: np.ndarray, errors: int = 0, operation: str = "predict"
) -> dict[str, Any]:
    lat, cpu = QuantileSketch(), QuantileSketch()
    lat.add_many(latencies)
    cpu.add_many(latencies / 4)
    return {
        "service": "svc",
        "version": "1",
        "operation": operation,
        "instance": instance,
        "start": start,
        "length": 10.0,
        "calls": len(latencies),
        "errors": errors,
        "client_errors": 0,
        "failures": json.dumps({"ValueError": errors} if errors else {}),
        "latency": json.dumps(lat.to_dict()),
        "cpu": json.dumps(cpu.to_dict()),
        "cpu_seconds": float(np.sum(latencies / 4)),
        "peak_rss_bytes": 1000,
        "gpu_busy_seconds": None,
        "gpu_peak_memory_bytes": None,
        "peak_in_flight": 2,
        "batch_id": "b",
    }


def window_record(
    instance: str, start: float, latencies: np.ndarray, service: str = "svc"
) -> dict[str, Any]:
    """The wire form of ``window_row``'s window, as the SDK ships it."""
    row = window_row(instance, start, latencies)
    return {
        "kind": "serving_window",
        **{k: v for k, v in row.items() if k not in ("batch_id", "errors")},
        "service": service,
        "failures": json.loads(row["failures"]),
        "latency": json.loads(row["latency"]),
        "cpu": json.loads(row["cpu"]),
    }


def ingest(store: Store, records: list[dict[str, Any]], now: float) -> tuple[int, int]:
    """Through the ingest path; returns what the reply says: (stored, already_stored)."""
    envelope = {"batch_id": str(uuid.uuid4()), "records": records}
    validated = validate_envelope(envelope, now)
    assert not validated.errors, validated.errors
    result = store.write_batch(validated.batch)
    return result.inserted, result.already_stored


def assert_within_bound(estimate: float, values: np.ndarray, q: float) -> None:
    """The sketch's guarantee: within ALPHA of the true rank-q value (lower rank convention)."""
    ordered = np.sort(values)
    rank = q * (len(ordered) - 1)
    lo, hi = ordered[int(np.floor(rank))], ordered[int(np.ceil(rank))]
    assert lo * (1 - ALPHA) <= estimate <= hi * (1 + ALPHA), (q, estimate, lo, hi)


def test_three_processes_merge_to_the_percentiles_of_all_calls(store: Store) -> None:
    rng = np.random.default_rng(7)
    per_process = {
        "pod-a": rng.lognormal(-3.0, 0.4, 30_000),
        "pod-b": rng.lognormal(-2.0, 0.9, 20_000),  # a slow replica
        "pod-c": rng.pareto(2.5, 10_000) * 0.02 + 0.001,
    }
    rows = []
    for instance, values in per_process.items():
        for k, chunk in enumerate(np.array_split(values, 30)):  # 30 windows of 10 s
            rows.append(window_row(instance, T0 + 10 * k, chunk, errors=k % 3))
    store.insert("serving_windows", rows)
    everything = np.concatenate(list(per_process.values()))
    total = serving_total(store, SeriesQuery("svc", T0, T0 + 300, 300))
    assert total["calls"] == len(everything) == 60_000
    assert total["errors"] == 3 * sum(k % 3 for k in range(30))
    for q in (0.5, 0.9, 0.95, 0.99):
        assert_within_bound(total[f"latency_p{round(q * 100)}"], everything, q)
    assert total["cpu_per_call"] == pytest.approx(float(np.mean(everything / 4)), rel=1e-9)


def test_series_groups_and_steps(store: Store) -> None:
    rng = np.random.default_rng(1)
    rows = [
        window_row(f"pod-{i}", T0 + 10 * k, rng.lognormal(-3, 0.5, 100), operation=op)
        for i in range(2)
        for k in range(12)
        for op in ("predict", "explain")
    ]
    store.insert("serving_windows", rows)
    series = serving_series(store, SeriesQuery("svc", T0, T0 + 120, 60, group_by=("operation",)))
    assert [s["labels"] for s in series] == [{"operation": "explain"}, {"operation": "predict"}]
    for s in series:
        assert [p["time"] for p in s["points"]] == [T0, T0 + 60]
        assert [p["calls"] for p in s["points"]] == [2 * 6 * 100, 2 * 6 * 100]
        assert s["points"][0]["calls_per_second"] == pytest.approx(1200 / 60)
    only = serving_series(store, SeriesQuery("svc", T0, T0 + 120, 120, instance="pod-1"))
    assert only[0]["points"][0]["calls"] == 2 * 12 * 100


def test_rollups_answer_like_raw_and_late_data_is_seen(store: Store) -> None:
    rng = np.random.default_rng(3)
    raw: list[np.ndarray] = []
    rows = []
    for k in range(3 * 360):  # three hours of 10 s windows
        values = rng.lognormal(-3, 0.6, 20)
        raw.append(values)
        rows.append(window_row("pod-1", T0 + 10 * k, values, errors=1 if k % 50 == 0 else 0))
    store.insert("serving_windows", rows)
    now = T0 + 3 * 3600 + 5
    written = roll_up(store, now, late_seconds=1800)
    assert written == {60: 180, 3600: 3}
    state = rollup_state(store)
    assert state[3600].rolled_until == T0 + 3 * 3600
    assert state[3600].final_until == T0 + 2 * 3600

    hourly = serving_series(store, SeriesQuery("svc", T0, T0 + 3 * 3600, 3600))[0]["points"]
    for h, point in enumerate(hourly):
        values = np.concatenate(raw[h * 360 : (h + 1) * 360])
        assert point["calls"] == len(values)
        assert point["errors"] == sum(1 for k in range(h * 360, (h + 1) * 360) if k % 50 == 0)
        assert_within_bound(point["latency_p99"], values, 0.99)

    # A window arriving late for an hour that is rolled but not final: the next pass
    # re-rolls that hour, so the rollup includes it.
    late = rng.lognormal(-1, 0.1, 500)
    ingest(store, [window_record("pod-2", T0 + 2 * 3600 + 30, late)], now + 30)
    roll_up(store, now + 60, late_seconds=1800)
    last = serving_series(store, SeriesQuery("svc", T0 + 2 * 3600, T0 + 3 * 3600, 3600))
    assert last[0]["points"][0]["calls"] == 360 * 20 + 500
    minute = serving_series(store, SeriesQuery("svc", T0 + 2 * 3600, T0 + 2 * 3600 + 60, 60))
    assert minute[0]["points"][0]["calls"] == 6 * 20 + 500


def test_retention_deletes_only_what_is_past_its_time(store: Store) -> None:
    rng = np.random.default_rng(4)
    store.insert(
        "serving_windows",
        [window_row("pod-1", T0 + d * 86400, rng.lognormal(-3, 0.5, 10)) for d in range(10)],
    )
    roll_up(store, T0 + 10 * 86400)
    deleted = apply_retention(store, T0 + 10 * 86400, Retention(raw_days=3.5, minute_days=5.5))
    raw_left = store.fetch("SELECT COUNT(*) AS n FROM serving_windows")[0]["n"]
    assert raw_left == 3  # days 7, 8, 9 start after now - 3.5 days
    minute_left = store.fetch("SELECT COUNT(*) AS n FROM serving_rollups WHERE resolution = 60")[0][
        "n"
    ]
    assert minute_left == 5  # days 5..9
    assert deleted == 7 + 5
    # The 30-day view still has every day from the hourly rollups.
    days = serving_series(store, SeriesQuery("svc", T0, T0 + 10 * 86400, 86400))
    assert sum(p["calls"] for p in days[0]["points"]) == 100


def test_bad_queries_are_rejected() -> None:
    from mlvitals.errors import BadRequest

    with pytest.raises(BadRequest, match="after"):
        SeriesQuery("svc", 10, 5, 1)
    with pytest.raises(BadRequest, match="too many points"):
        SeriesQuery("svc", 0, 1e9, 1)
    with pytest.raises(BadRequest, match="cannot group by"):
        SeriesQuery("svc", 0, 10, 1, group_by=("colour",))


def test_a_pass_reads_only_what_arrived_since_the_last(store: Store) -> None:
    """Windows of two services, ingested minute by minute with a pass after each minute."""
    rng = np.random.default_rng(5)
    sent: dict[tuple[str, float], list[np.ndarray]] = {}
    t = T0
    written: list[dict[int, int]] = []
    for minute in range(62):
        batch = []
        for service in ("svc", "other"):
            for k in range(6):
                values = rng.lognormal(-3, 0.5, 10)
                start = T0 + 60 * minute + 10 * k
                sent.setdefault((service, np.floor(start / 3600) * 3600), []).append(values)
                batch.append(window_record("pod-1", start, values, service=service))
        t = T0 + 60 * (minute + 1) + 5
        assert ingest(store, batch, t) == (12, 0)  # marks are not counted as records
        if minute == 0:
            assert ingest(store, batch, t) == (0, 12)  # a resend: already stored, not marks
        written.append(roll_up(store, t))
    # After the first pass, each pass re-rolls just the minute that completed: one rollup
    # per service, not the whole late tolerance of two hours.
    assert all(w[60] == 2 for w in written[1:]), written
    # Hours are rolled when complete: hour 0 by the pass just after it ended, hour 1 not yet.
    assert [w[3600] for w in written[1:]].count(2) == 1 and written[-1][3600] == 0
    hour = serving_series(store, SeriesQuery("other", T0, T0 + 3600, 3600))
    values = np.concatenate(sent[("other", T0)])
    assert hour[0]["points"][0]["calls"] == len(values) == 60 * 6 * 10
    assert_within_bound(hour[0]["points"][0]["latency_p99"], values, 0.99)


def test_late_windows_count_however_late_they_arrive(store: Store) -> None:
    rng = np.random.default_rng(6)
    early = rng.lognormal(-3, 0.5, 50)
    ingest(store, [window_record("pod-1", T0 + 10, early)], T0 + 20)
    roll_up(store, T0 + 3600 + 5, late_seconds=1800)  # minute and hour 0 rolled
    # 20 minutes after hour 0 ended: within the tolerance, counted in both rollups.
    late = rng.lognormal(-1, 0.2, 70)
    ingest(store, [window_record("pod-2", T0 + 20, late)], T0 + 3600 + 1200)
    roll_up(store, T0 + 3600 + 1205, late_seconds=1800)
    for res in (60, 3600):
        point = serving_series(store, SeriesQuery("svc", T0, T0 + res, res))[0]["points"][0]
        assert point["calls"] == 120, res
    # Two hours after it ended, hour 0 is final: a window for it still counts in both.
    ingest(store, [window_record("pod-3", T0 + 30, late)], T0 + 3 * 3600)
    roll_up(store, T0 + 3 * 3600 + 5, late_seconds=1800)
    for res in (60, 3600):
        point = serving_series(store, SeriesQuery("svc", T0, T0 + res, res))[0]["points"][0]
        assert point["calls"] == 190, res
    assert store.fetch("SELECT COUNT(*) AS n FROM serving_rollup_marks")[0]["n"] == 0
