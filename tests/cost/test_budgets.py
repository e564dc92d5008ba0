"""Budgets: spent this period, the linear forecast, breaches; parsing budgets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlvitals.cost.budgets import Budget, budget_status, load_budgets, parse_budget, period_bounds
from mlvitals.cost.lines import CostLine
from mlvitals.errors import ConfigError
from tests.cost.conftest import T

H, DAY = 3600.0, 86400.0


def line(start: float, end: float, amount: float, **subject: str) -> CostLine:
    return CostLine(start, end, "cpu", amount, "core-hour", 1.0, amount, "USD", **subject)


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_monthly_forecast_is_linear_on_the_month_to_date_run_rate() -> None:
    # 10 days of November at 12/day for service a, 5/day for b; now: Nov 11 00:00.
    lines = [line(ts(2026, 11, d), ts(2026, 11, d + 1), 12.0, service="a") for d in range(1, 11)]
    lines += [line(ts(2026, 11, d), ts(2026, 11, d + 1), 5.0, service="b") for d in range(1, 11)]
    lines.append(line(ts(2026, 10, 31), ts(2026, 11, 1), 99.0, service="a"))  # last month
    now = ts(2026, 11, 11)
    status = budget_status(Budget("a", 300.0, "monthly", "service", "a"), lines, now)
    assert status.spent == pytest.approx(120.0)
    assert status.forecast == pytest.approx(120.0 * 30 / 10)
    assert (status.breached, status.forecast_breached) == (False, True)
    assert (status.period_start, status.period_end) == (ts(2026, 11, 1), ts(2026, 12, 1))
    total = budget_status(Budget("all", 100.0), lines, now)
    assert total.spent == pytest.approx(170.0)
    assert (total.breached, total.forecast_breached) == (True, True)


def test_daily_budget_counts_only_today_up_to_now() -> None:
    lines = [line(T - DAY, T, 50.0, pipeline="etl"), line(T, T + 6 * H, 6.0, pipeline="etl")]
    status = budget_status(Budget("etl", 30.0, "daily", "pipeline", "etl"), lines, T + 6 * H)
    assert status.spent == pytest.approx(6.0)
    assert status.forecast == pytest.approx(24.0)
    assert not status.breached and not status.forecast_breached


def test_a_line_reaching_past_now_counts_only_up_to_now() -> None:
    status = budget_status(Budget("t", 10.0, "daily"), [line(T, T + 10 * H, 10.0)], T + 5 * H)
    assert status.spent == pytest.approx(5.0)


def test_december_rolls_into_the_next_year() -> None:
    assert period_bounds("monthly", ts(2026, 12, 31, 23)) == (ts(2026, 12, 1), ts(2027, 1, 1))


@given(rate=st.floats(0.01, 1e4), hours=st.integers(1, 30 * 24 - 1))
def test_a_steady_spend_forecasts_its_full_period(rate: float, hours: int) -> None:
    start = ts(2026, 11, 1)
    lines = [line(start + h * H, start + (h + 1) * H, rate) for h in range(hours)]
    status = budget_status(Budget("t", 1.0, "monthly"), lines, start + hours * H)
    assert status.forecast == pytest.approx(rate * 30 * 24, rel=1e-9)


def test_budget_parsing_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(
        "budgets:\n"
        "  - {name: iris, limit: 100, period: daily, scope: service, subject: iris}\n"
        "  - {name: all, limit: 2500}\n"
    )
    assert load_budgets(path) == [
        Budget("iris", 100.0, "daily", "service", "iris"),
        Budget("all", 2500.0, "monthly", "total", ""),
    ]
    cases = [
        ({"name": "x"}, "b.yaml: limit: is required"),
        ({"name": "x", "limit": 0}, "b.yaml: limit: must be positive"),
        ({"name": "x", "limit": 1, "period": "weekly"}, "period: must be one of daily, monthly"),
        ({"name": "x", "limit": 1, "scope": "service"}, "subject: names the service"),
        ({"name": "x y", "limit": 1}, "name: must be"),
    ]
    for data, message in cases:
        with pytest.raises(ConfigError) as err:
            parse_budget(data, "", "b.yaml")
        assert message in str(err.value)
    path.write_text("budgets:\n  - {name: a, limit: 1}\n  - {name: a, limit: 2}\n")
    with pytest.raises(ConfigError, match="'a' is used twice"):
        load_budgets(path)


def test_a_line_across_midnight_splits_between_the_two_days() -> None:
    # 22:00 to 02:00 at 4 per hour: 8 of it belongs to each day.
    midnight = ts(2026, 11, 28)
    lines = [line(midnight - 2 * H, midnight + 2 * H, 16.0)]
    budget = Budget("t", 10.0, "daily")
    before = budget_status(budget, lines, midnight - 1)
    assert (before.period_start, before.period_end) == (midnight - DAY, midnight)
    assert before.spent == pytest.approx(16.0 * (2 * H - 1) / (4 * H))
    after = budget_status(budget, lines, midnight + 3 * H)
    assert (after.period_start, after.period_end) == (midnight, midnight + DAY)
    assert after.spent == pytest.approx(8.0)
    assert after.forecast == pytest.approx(8.0 * 24 / 3)


def test_at_the_first_instant_of_a_period_nothing_is_spent_or_forecast() -> None:
    midnight = ts(2026, 12, 1)
    lines = [line(midnight - 4 * H, midnight + 4 * H, 80.0)]
    for period in ("daily", "monthly"):
        status = budget_status(Budget("t", 1.0, period), lines, midnight)
        assert status.period_start == midnight  # midnight starts the new period
        assert (status.spent, status.forecast) == (0.0, 0.0)
        assert not status.breached and not status.forecast_breached
        one_second = budget_status(Budget("t", 1.0, period), lines, midnight + 1)
        assert one_second.spent == pytest.approx(80.0 / (8 * H))
        length = DAY if period == "daily" else ts(2027, 1, 1) - midnight
        assert one_second.forecast == pytest.approx(one_second.spent * length)


def test_the_last_second_of_a_month_still_belongs_to_it() -> None:
    end = ts(2027, 1, 1)
    assert period_bounds("monthly", end - 1) == (ts(2026, 12, 1), end)
    assert period_bounds("daily", end - 1) == (end - DAY, end)
    assert period_bounds("monthly", end) == (end, ts(2027, 2, 1))
