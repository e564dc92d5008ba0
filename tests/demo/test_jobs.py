"""The demo's jobs, without a server: the feature pipeline's files and records, the broken
environment of the retraining, and the budgets' arithmetic."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from mlvitals.cost import DEFAULT_CONFIG, RunUsage, run_lines
from mlvitals.demo import features, training
from mlvitals.demo.budget import limit_for, serving_limit
from mlvitals.demo.jobs import RetrainPlan
from mlvitals.demo.sim import SimClock, SimMeter
from mlvitals.pipelines import Environment, RunTracker, diff_environments

SLOT = 1_800_000_000.0


def _outputs(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    steps = {r["step_id"]: r["name"] for r in records if r["kind"] == "step"}
    return {
        steps[r["step_id"]]: r
        for r in records
        if r["kind"] == "dataset" and r["direction"] == "output"
    }


def _csv_rows(paths: list[Path], complete_only: bool = False) -> int:
    rows = 0
    for path in paths:
        with path.open(newline="") as f:
            body = list(csv.reader(f))[1:]
        rows += sum(1 for row in body if all(row) or not complete_only)
    return rows


@pytest.mark.parametrize("rows", [features.NORMAL_ROWS, features.FEW_ROWS])
def test_a_feature_run_records_the_files_it_wrote(tmp_path: Path, rows: int) -> None:
    records: list[dict[str, Any]] = []
    clock = SimClock(SLOT + 0.2)
    meter = SimMeter(clock, cpu_cores=features.CPU_CORES, rss_bytes=features.RSS_BYTES)
    tracker = RunTracker(records.append, clock=clock, environment=False, meter=meter)
    rng = np.random.default_rng(3)
    run = features.feature_run(tracker, tmp_path, SLOT, rows, 10.0, clock.advance, rng)

    assert run.state == "succeeded"
    start, end = (r for r in records if r["kind"] == "run")
    assert start["scheduled_at"] == SLOT and start["trigger"] == "schedule"
    assert end["resources"]["wall_seconds"] == pytest.approx(10.0)
    assert end["resources"]["cpu_seconds"] == pytest.approx(features.CPU_CORES * 10.0)
    out = _outputs(records)
    parts = sorted((tmp_path / "raw").glob("part-*.csv"))
    assert out["extract"]["rows"] == _csv_rows(parts) == rows
    assert out["extract"]["file_types"] == {"csv": 2}
    assert out["extract"]["bytes"] == sum(p.stat().st_size for p in parts)
    complete = _csv_rows(parts, complete_only=True)
    assert out["validate"]["rows"] == _csv_rows([tmp_path / "clean.csv"]) == complete
    table = tmp_path / "features.parquet"
    assert out["featurize"]["rows"] == pq.read_metadata(table).num_rows == complete
    assert out["featurize"]["file_types"] == {"parquet": 1}


def test_the_broken_environment_differs_in_scikit_learn_only() -> None:
    env = Environment("3.11.7", "cpython", "Linux", {"scikit-learn": "1.9.1", "numpy": "2.1.0"})
    broken = training.upgraded(env)
    diff = diff_environments(env, broken)
    assert diff.lines() == ["↑ scikit-learn 1.9.1 -> 1.10.0"]
    assert broken.hash != env.hash
    assert "1.10.0" in str(training.fit_error(broken))


def test_a_retraining_that_fails_in_fit_is_recorded_failed_with_its_error(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    clock = SimClock(SLOT)
    env = Environment("3.11.7", "cpython", "Linux", {"scikit-learn": "1.9.1"})
    tracker = RunTracker(
        records.append, clock=clock, environment=lambda: env, meter=training.meter(clock)
    )
    error = training.fit_error(env)
    run = training.training_run(
        tracker,
        clock.advance,
        seconds=100.0,
        version="9.9.9",
        model={"a": 1},
        models=tmp_path,
        features=None,
        trigger="manual",
        error=error,
    )
    assert run.state == "failed"
    end = [r for r in records if r["kind"] == "run"][-1]
    assert end["event"] == "fail" and end["error"]["type"] == "TypeError"
    # It failed at the end of fit: 10 % loading and 80 % fitting of its 100 seconds.
    assert end["time"] - SLOT == pytest.approx(90.0)
    assert list(tmp_path.iterdir()) == []  # no model was exported


def test_the_planned_retraining_costs_what_the_rate_card_says(tmp_path: Path) -> None:
    plan = RetrainPlan(SLOT, SLOT + 40.0, SLOT + 100.0)
    usages = plan.usages()
    assert [(u.start, u.end) for u in usages] == [(SLOT, SLOT + 40.0), (SLOT + 40.0, SLOT + 100.0)]
    # Without a request, a run is billed what it used: 6 cores, 12 GiB, 3.2 GPUs busy.
    hours = 100.0 / 3600
    by_hand = hours * (6 * 0.031611 + 12 * 0.004237 + 3.2 * 0.95)
    assert run_lines(usages, DEFAULT_CONFIG).amount == pytest.approx(by_hand)


def test_the_retraining_limit_puts_the_forecast_at_95_percent() -> None:
    planned = [RunUsage("r", training.TRAIN, SLOT, SLOT + 3600.0, cpu_seconds=3600.0 * 4)]
    cost = run_lines(planned, DEFAULT_CONFIG).amount
    day_start = math.floor(SLOT / 86400) * 86400
    judged = SLOT + 3600.0
    limit = limit_for(0.5, cost, (judged - day_start) / 86400)
    forecast = (0.5 + cost) * 86400 / (judged - day_start)  # spent x day / elapsed
    assert forecast / limit == pytest.approx(0.95)


def test_the_serving_limit_leaves_room_above_its_forecast() -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()
    # 6 h at 0.24 an hour, 19.5 days into a 30-day month: 2.2154 forecast, twice is 4.43.
    assert serving_limit(now, 6.0, 0.24) == 4.5
    # History from before the month began is not this month's spending: 3 h in, 0.72 spent,
    # 172.8 forecast, twice is 345.6, rounded up to two significant digits.
    early = datetime(2026, 11, 1, 3, tzinfo=UTC).timestamp()
    assert serving_limit(early, 6.0, 0.24) == 350.0
