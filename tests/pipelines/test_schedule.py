"""Late, missed and overdue runs with an injected clock; baselines and anomalies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlvitals.errors import ConfigError
from mlvitals.pipelines.baselines import learn_band, step_anomalies
from mlvitals.pipelines.config import PipelineConfig, load_configs
from mlvitals.pipelines.schedule import (
    RunTiming,
    adherence,
    nominal_times,
    overdue,
    percentile,
)

H = 3600.0
DAY0 = datetime(2024, 6, 1, tzinfo=UTC).timestamp()


def at(hour: float) -> float:
    return DAY0 + hour * H


def run(rid: str, start: float | None, scheduled: float | None = None, **kw: object) -> RunTiming:
    return RunTiming(rid, scheduled, start, None, "succeeded", **kw)  # type: ignore[arg-type]


HOURLY = PipelineConfig("etl", schedule="0 * * * *", grace_seconds=600)


def statuses(runs: list[RunTiming], now: float, config: PipelineConfig = HOURLY) -> list[tuple]:
    a = adherence(config, runs, now, since=at(0))
    return [((s.nominal - DAY0) / H, s.status, s.run_id) for s in a.slots]


def test_on_time_late_missed_and_pending() -> None:
    runs = [
        run("a", at(0) + 30),  # on time
        run("b", at(1) + 900),  # 15 min late, grace is 10
        # hour 2: nothing -> missed (hour 3 began)
        run("d", at(3) - 20),  # a little early still counts
    ]
    assert statuses(runs, now=at(4) + 60) == [
        (0, "on_time", "a"),
        (1, "late", "b"),
        (2, "missed", None),
        (3, "on_time", "d"),
        (4, "pending", None),
    ]
    # Past the grace period with no start yet: late now, missed once the next slot begins.
    assert statuses(runs, now=at(4) + 700)[-1] == (4, "late", None)
    assert statuses(runs, now=at(5) + 1)[-2] == (4, "missed", None)


def test_scheduled_time_wins_over_start_time_and_manual_runs_do_not_count() -> None:
    runs = [
        run("backfill", at(2) + 100, scheduled=at(0)),  # a late catch-up of hour 0
        run("manual", at(1) + 10, trigger="manual"),
    ]
    got = statuses(runs, now=at(2) + 200)
    assert got[0][:3] == (0, "late", "backfill")
    assert got[1] == (1, "missed", None)
    assert got[2] == (2, "pending", None)  # the backfill belongs to hour 0, not hour 2
    a = adherence(HOURLY, runs, at(2) + 200, since=at(0))
    assert a.slots[0].delay_seconds == pytest.approx(2 * H + 100)


def test_cron_in_a_time_zone_and_the_slot_count() -> None:
    # 02:00 in New York is 06:00 UTC in June (EDT).
    cfg = PipelineConfig("nightly", schedule="0 2 * * *", timezone="America/New_York")
    times = nominal_times(cfg.schedule or "", cfg.timezone, at(0), at(72))
    assert [(t - DAY0) / H for t in times] == [6, 30, 54]
    a = adherence(cfg, [], at(72), slots=2)
    assert len(a.slots) == 2 and a.next_nominal == at(78)


def test_unscheduled_pipelines_have_no_slots() -> None:
    assert adherence(PipelineConfig("adhoc"), [run("a", at(1))], at(2)).slots == []


def test_overdue_by_declared_maximum_and_by_history() -> None:
    cfg = PipelineConfig("etl", max_duration_seconds=3600)
    assert overdue(at(0), at(0.5), cfg, []) is None
    found = overdue(at(0), at(1.5), cfg, [])
    assert found is not None and found.limit_seconds == 3600 and "maximum" in found.reason
    history = [100.0, 110.0, 120.0, 105.0, 130.0, 95.0]
    p95 = float(np.percentile(history, 95))
    assert overdue(at(0), at(0) + 2 * p95 - 1, None, history) is None
    late = overdue(at(0), at(0) + 2 * p95 + 1, None, history)
    assert late is not None and late.limit_seconds == pytest.approx(2 * p95)
    assert overdue(at(0), at(0) + 10_000, None, history[:4]) is None  # too little history


def test_short_jobs_get_a_minute_of_slack_past_their_usual_duration() -> None:
    history = [4.0, 5.0, 5.0, 6.0, 5.0, 4.0]
    p95 = float(np.percentile(history, 95))
    # Twice the p95 would flag a 12 s run of a 5 s job; the floor waits a minute past it.
    assert overdue(at(0), at(0) + 2 * p95 + 1, None, history) is None
    assert overdue(at(0), at(0) + p95 + 59, None, history) is None
    late = overdue(at(0), at(0) + p95 + 61, None, history)
    assert late is not None and late.limit_seconds == pytest.approx(p95 + 60)
    assert "60 s past the p95 of the last 6 good runs" in late.reason
    # A declared maximum still applies as declared, however short.
    cfg = PipelineConfig("etl", max_duration_seconds=20)
    found = overdue(at(0), at(0) + 21, cfg, history)
    assert found is not None and found.limit_seconds == 20


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50), st.floats(0, 1))
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q * 100)), abs=1e-6)


def test_band_by_hand() -> None:
    values = [10.0, 12.0, 11.0, 13.0, 50.0]  # median 12, |dev| = 2,0,1,1,38 -> MAD 1
    band = learn_band(values, k=3.0, rel_floor=0.0)
    assert band is not None
    assert (band.median, band.mad) == (12.0, 1.0)
    assert band.low == pytest.approx(12 - 3 * 1.4826) and band.high == pytest.approx(
        12 + 3 * 1.4826
    )
    assert learn_band(values[:4]) is None
    flat = learn_band([100.0] * 6, rel_floor=0.1)
    assert flat is not None and (flat.low, flat.high) == (90.0, 110.0)


def test_step_anomalies_against_good_history() -> None:
    history = [
        {"load": {"duration_seconds": 60 + i, "output_rows": 1000 + i, "output_files": 4}}
        for i in range(8)
    ]
    ok = {"load": {"duration_seconds": 63.0, "output_rows": 1002.0, "output_files": 4.0}}
    assert step_anomalies(ok, history) == []
    bad = {"load": {"duration_seconds": 300.0, "output_rows": 10.0, "output_files": 4.0}}
    found = {(a.metric, a.direction) for a in step_anomalies(bad, history)}
    assert found == {("duration_seconds", "high"), ("output_rows", "low")}
    assert step_anomalies({"new-step": {"duration_seconds": 1e9}}, history) == []


def usual_high(durations: list[float]) -> float:
    """The band's upper bound by hand: median + max(4 x 1.4826 x MAD, 10 % of it, 1 s)."""
    mid = float(np.median(durations))
    mad = float(np.median(np.abs(np.asarray(durations) - mid)))
    return mid + max(4 * 1.4826 * mad, 0.1 * mid, 1.0)


def duration_flags(durations: list[float], value: float) -> list[str]:
    history = [{"step": {"duration_seconds": d}} for d in durations]
    found = step_anomalies({"step": {"duration_seconds": value}}, history)
    return [a.direction for a in found]


def test_a_short_step_slowed_by_a_busy_machine_is_no_anomaly() -> None:
    two_seconds = [1.9, 2.0, 2.1, 2.0, 1.95, 2.05]
    assert duration_flags(two_seconds, 3.7) == []  # 1.85 x on a loaded machine
    assert duration_flags(two_seconds, 30.0) == []  # under a minute past its usual bound
    assert duration_flags(two_seconds, usual_high(two_seconds) + 61.0) == ["high"]
    # A history learned on a busy machine, then an idle one: faster is no anomaly either.
    busy = [9.0, 10.0, 11.0, 10.0, 9.5, 10.5]
    assert duration_flags(busy, 2.0) == []


def test_a_long_step_is_slow_past_twice_its_usual_upper_bound() -> None:
    hour = [3600.0, 3650.0, 3580.0, 3700.0, 3620.0, 3660.0]
    high = usual_high(hour)
    assert duration_flags(hour, 1.9 * high) == []
    assert duration_flags(hour, 2.1 * high) == ["high"]
    assert duration_flags(hour, 600.0) == ["low"]  # a sixth of its usual time: work skipped


def test_durations_and_yaml(tmp_path: Path) -> None:
    f = tmp_path / "pipelines.yaml"
    f.write_text(
        "pipelines:\n"
        "  - name: nightly\n    schedule: '0 2 * * *'\n    grace: 15m\n    max_duration: 2h\n"
        "  - name: adhoc\n"
    )
    nightly, adhoc = load_configs(f)
    assert (nightly.grace_seconds, nightly.max_duration_seconds) == (900, 7200)
    assert adhoc.schedule is None and adhoc.grace_seconds == 300
    f.write_text("pipelines:\n  - name: x\n    schedule: 'every day'\n")
    with pytest.raises(ConfigError, match="not a valid cron"):
        load_configs(f)
    f.write_text("pipelines:\n  - name: x\n    timezone: Mars/Olympus\n    schedule: '* * * * *'\n")
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_configs(f)
    f.write_text("pipelines:\n  - name: x\n    retries: 3\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_configs(f)
