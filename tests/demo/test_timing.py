"""The demo's timings and rules: every pace gives a schedule, windows and rules that let
each incident be seen in time, and the rules are a valid rules file."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlvitals.alerts.config import parse_rules
from mlvitals.alerts.rules import AbsenceSpec, BudgetSpec, ServingSpec
from mlvitals.demo.incidents import EXTRA_LATENCY, Plan
from mlvitals.demo.rules import demo_rules
from mlvitals.demo.timing import Timing
from mlvitals.errors import ConfigError
from mlvitals.pipelines.schedule import nominal_times

paces = st.floats(min_value=6.0, max_value=3600.0, allow_nan=False)


@given(paces)
def test_the_schedule_has_room_for_a_late_run(pace: float) -> None:
    t = Timing.for_pace(pace)
    # The late run starts after its grace period plus two evaluation intervals (so the
    # alert can fire) and ends before the next slot (so that slot is not late as well).
    assert t.late_by >= 2 * t.alert_interval
    assert t.grace + t.late_by + t.run_seconds < t.schedule_every
    # A live run starts on time even when it must wait for a run that just ended.
    assert t.run_seconds < t.grace


@given(paces)
def test_serving_incidents_outlast_the_time_to_detect_them(pace: float) -> None:
    t = Timing.for_pace(pace)
    at = 1_800_000_003.7
    # The slow calls of the latency regression show when they end, that much later.
    for shows_from in (at, at + EXTRA_LATENCY):
        detected_by = t.serving_holds_from(shows_from) + 2 * t.alert_interval
        # The rule window still holds the incident's windows this long after it ends.
        assert at + t.incident_seconds + t.rule_window - t.sdk_window > detected_by
    assert t.clean >= t.rule_window


@given(paces)
def test_the_pipeline_incidents_happen_before_the_timeline_ends(pace: float) -> None:
    t = Timing.for_pace(pace)
    plan = Plan(1_800_000_000.0, t)
    every = t.schedule_every
    # One incident a run: the late run's slot comes within a period of its time, the short
    # extract's at the latest a period after that, then the drifted batch's.
    late = plan.at(1) + every
    few = max(plan.at(3), late) + every
    drift = max(plan.at(4), few) + every
    assert drift + t.run_seconds + t.ship_margin + 2 * t.alert_interval < plan.end


@given(paces)
def test_the_rules_are_a_valid_rules_file_for_any_pace(pace: float) -> None:
    t = Timing.for_pace(pace)
    rules = parse_rules(demo_rules(t), "demo rules")
    specs = {r.name: r.spec for r in rules.rules}
    errors, down, budget = (
        specs["HighErrorRate"],
        specs["InstanceDown"],
        specs["BudgetForecastHigh"],
    )
    assert isinstance(errors, ServingSpec) and errors.window == pytest.approx(t.rule_window)
    assert isinstance(down, AbsenceSpec) and down.duration == pytest.approx(t.absence)
    assert isinstance(budget, BudgetSpec) and budget.threshold == 0.9
    # Nothing waits for a 'for' period: an alert fires at the first evaluation that sees it.
    assert all(r.for_ == 0 for r in rules.rules)


@pytest.mark.parametrize(
    ("pace", "cron", "every"),
    [
        (6, "* * * * * */10", 10),
        (8, "* * * * * */10", 10),
        (12, "* * * * * */12", 12),
        (45, "* * * * *", 60),
        (60, "* * * * *", 60),
        (90, "* * * * *", 60),
        (150, "*/2 * * * *", 120),
        (600, "*/10 * * * *", 600),
        (3600, "0 * * * *", 3600),
    ],
)
def test_the_cron_expression_fires_every_schedule_period(
    pace: float, cron: str, every: int
) -> None:
    t = Timing.for_pace(pace)
    assert (t.cron, t.schedule_every) == (cron, every)
    start = 1_800_000_000.0
    times = nominal_times(t.cron, "UTC", start, start + 10 * every)
    gaps = {round(b - a) for a, b in itertools.pairwise(times)}
    assert gaps == {every}


def test_a_pace_too_short_for_a_late_run_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 6 seconds"):
        Timing.for_pace(5)
