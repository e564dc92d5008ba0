"""Queries mixing rollups and raw windows cover exactly ``[start, end)``.

A window counts when its start lies in the range. Every figure here is checked against a
NumPy sum over the stored raw windows, never against another query of the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlvitals.alerts.config import load_rules
from mlvitals.alerts.state import AlertState
from mlvitals.durations import format_duration
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.persistence import load_states
from mlvitals.server.database import open_database
from mlvitals.server.serving.queries import SeriesQuery, serving_series, serving_total
from mlvitals.server.serving.rollup import roll_up, rollup_marks
from mlvitals.store import Store
from tests.alerts.helpers import window_row
from tests.server.conftest import MakeClient

B = 486_112 * 3600.0  # on an hour boundary
NOW = B + 20.0  # mid-minute: every window below starts off a minute boundary
BURST = 40.0  # the failures fill the oldest 40 s of a window

RULES = """\
rules:
  - name: HighErrorRate
    kind: serving
    metric: error_rate
    op: ">"
    threshold: 0.05
    window: {window}
    min_calls: 20
    severity: critical
"""


def clean_traffic(store: Store, start: float, end: float) -> None:
    """A 10 s window of 50 good calls every 10 s."""
    rows = []
    t = start
    while t < end:
        rows.append(window_row("svc", "pod-a", t, [0.02] * 50))
        t += 10.0
    store.insert("serving_windows", rows)


def burst(store: Store, start: float) -> None:
    """500 failed calls in each 10 s window of ``[start, start + BURST)``, from a second pod."""
    rows = [window_row("svc", "pod-b", start + k, [0.02] * 500, 500) for k in range(0, 40, 10)]
    store.insert("serving_windows", rows)


def raw(store: Store) -> dict[str, np.ndarray]:
    rows = store.fetch("SELECT start, calls, errors FROM serving_windows")
    return {k: np.array([float(r[k]) for r in rows]) for k in ("start", "calls", "errors")}


def raw_sum(w: dict[str, np.ndarray], start: float, end: float) -> tuple[int, int]:
    inside = (w["start"] >= start) & (w["start"] < end)
    return int(w["calls"][inside].sum()), int(w["errors"][inside].sum())


def alerts(store: Store, rules_file: Path, now: float) -> list[AlertState]:
    """One cycle of the real evaluator over the rules file; the rule's alert states."""
    report = Evaluator(store, load_rules(str(rules_file))).run_once(now)
    assert report.errors == {}
    return list(load_states(store).get("HighErrorRate", {}).values())


@pytest.mark.parametrize("window", [60.0, 300.0, 3600.0])
def test_failures_in_the_oldest_part_of_a_rule_window_fire_the_rule(
    store: Store, tmp_path: Path, window: float
) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES.format(window=format_duration(window)))
    clean_traffic(store, B - 2 * 3600.0, NOW)
    start = NOW - window
    burst(store, start)
    roll_up(store, NOW)  # a rollup pass has just run, as the maintenance loop does

    states = alerts(store, rules_file, NOW)
    assert [s.state for s in states] == ["firing"]
    (state,) = states
    calls, errors = raw_sum(raw(store), start, NOW)
    assert state.value == pytest.approx(errors / calls)


@pytest.mark.parametrize("window", [60.0, 300.0, 3600.0])
def test_failures_just_before_a_rule_window_are_not_read(
    store: Store, tmp_path: Path, window: float
) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES.format(window=format_duration(window)))
    clean_traffic(store, B - 2 * 3600.0, NOW)
    burst(store, NOW - window - BURST)
    roll_up(store, NOW)
    assert alerts(store, rules_file, NOW) == []


@pytest.mark.parametrize("window", [60.0, 300.0, 3600.0])
def test_series_api_totals_equal_the_sum_over_raw_windows(
    store: Store, make_client: MakeClient, window: float
) -> None:
    clean_traffic(store, B - 2 * 3600.0, NOW)
    burst(store, NOW - window)
    roll_up(store, NOW)
    w = raw(store)
    client = make_client(clock=lambda: NOW)
    ranges = [
        (NOW - window, NOW),  # up to now, with the newest minute raw
        (NOW - window, NOW - window + 30.0),  # a past range ending inside a rolled period
        (NOW - 2 * window - 25.0, NOW - 5.0),
    ]
    for start, end in ranges:
        body = client.get(
            "/api/v1/services/svc/series",
            params={"start": str(start), "end": str(end), "step": str(window)},
        ).json()
        calls, errors = raw_sum(w, body["start"], body["end"])
        assert (body["total"]["calls"], body["total"]["errors"]) == (calls, errors), (start, end)
        (series,) = body["series"]
        for point in series["points"]:
            t = point["time"]
            expected = raw_sum(w, t, min(t + window, body["end"]))
            assert (point["calls"], point["errors"]) == expected, (start, end, t)


# ---- the property: any range, step and rollup position reads what the raw windows hold ----

STARTS = st.integers(-900, 900).map(lambda k: B + 10.0 * k)


@st.composite
def layouts(draw: st.DrawFn) -> dict[str, Any]:
    starts = draw(st.lists(STARTS, min_size=1, max_size=60, unique=True))
    counts = draw(st.lists(st.integers(1, 9), min_size=len(starts), max_size=len(starts)))
    passes = draw(st.lists(st.floats(B - 9000.0, B + 9000.0), min_size=1, max_size=3))
    start = draw(st.floats(B - 9500.0, B + 9000.0))
    length = draw(st.floats(1.0, 9000.0))
    step = draw(st.sampled_from([length, 60.0, 120.0, 300.0, 3600.0, 7200.0]))
    aligned = draw(st.booleans())
    if aligned:  # as the API does: start on a multiple of the step
        start = (start // step) * step
    return {
        "windows": list(zip(starts, counts, strict=True)),
        "passes": sorted(passes),
        "start": start,
        "end": start + length,
        "step": step,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_rollups_and_raw_windows_together_read_exactly_the_range(layout: dict[str, Any]) -> None:
    store = open_database(":memory:")
    try:
        rows = [
            window_row("svc", "pod", start, [0.01] * (n + 1), n % 3)
            for start, n in layout["windows"]
        ]
        # As ingest stores them: the windows and the marks of the minutes they touch.
        store.insert("serving_windows", rows)
        for table, marks in rollup_marks(rows).items():
            store.insert(table, marks)
        for t in layout["passes"]:
            roll_up(store, t)
        w = raw(store)
        start, end, step = layout["start"], layout["end"], layout["step"]
        if (end - start) / step > 5000:
            return
        q = SeriesQuery("svc", start, end, step)
        calls, errors = raw_sum(w, start, end)
        total = serving_total(store, q)
        assert (total["calls"], total["errors"]) == (calls, errors)
        points = {p["time"]: p for s in serving_series(store, q) for p in s["points"]}
        k = 0
        while start + k * step < end:
            t = start + k * step
            expected = raw_sum(w, t, min(t + step, end))
            got = (points[t]["calls"], points[t]["errors"]) if t in points else (0, 0)
            assert got == expected, (t, k)
            k += 1
    finally:
        store.close()
