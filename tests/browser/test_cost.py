"""The Cost page in headless Chromium, against a real server with a rate card of round rates.

Two instances (2 cores and 4 GiB; 1 core and 2 GiB) were up for 80 minutes with their calls,
and a training run used half a core and 768 MiB for an hour (see ``cost_seed``): every
amount checked here is worked out by hand from those figures and the rates, or read back
from the FOCUS CSV the page links to.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from mlvitals.cost.timegrid import month_start

from .cost_seed import (
    CPU_RATE,
    GIB,
    INSTANCES,
    RAM_RATE,
    RATE_CARD,
    TRAIN,
    SeededCost,
    budget,
    put_budget,
    seed_cost,
)
from .harness import BrowserPage, LiveServer, start_server, stop_server, wait_for_charts
from .pipelines_seed import CPU_SHARE, PEAK_RSS

pytestmark = pytest.mark.browser

REL = 1e-9  # amounts are floats summed in another order than here


@pytest.fixture(scope="module")
def cost_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, SeededCost]]:
    folder = tmp_path_factory.mktemp("cost")
    rates = folder / "rates.yaml"
    rates.write_text(RATE_CARD)
    server = start_server(folder / "server", "--rate-card", str(rates))
    try:
        seeded = seed_cost(server.url, time.time())
        put_budget(server.url, "everything", limit=1000, period="monthly")
        put_budget(
            server.url,
            "fraud-daily",
            limit=0.000001,
            period="daily",
            scope="service",
            subject="fraud-api",
        )
        # A limit between what recommender spent this month and its forecast.
        probe = {"period": "monthly", "scope": "service", "subject": "recommender"}
        put_budget(server.url, "rec-monthly", limit=1.0, **probe)
        status = budget(server.url, "rec-monthly")
        limit = (status["spent"] + status["forecast"]) / 2
        put_budget(server.url, "rec-monthly", limit=limit, **probe)
        yield server, seeded
    finally:
        stop_server(server)


def amount(page: Page, selector: str) -> float:
    value = page.locator(selector).locator("data").first.get_attribute("value")
    assert value is not None, selector
    return float(value)


def screenshot(page: Page, suffix: str) -> None:
    target = os.environ.get("MLVITALS_SCREENSHOT")
    if target:
        path = Path(target)
        page.screenshot(path=str(path.with_stem(f"{path.stem}-{suffix}")), full_page=True)


def test_totals_equal_the_hand_computed_cost(
    cost_server: tuple[LiveServer, SeededCost], tab: BrowserPage
) -> None:
    server, seeded = cost_server
    page = tab.page
    page.goto(server.url + "/cost")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cost")
    assert amount(page, "[data-testid=total]") == pytest.approx(seeded.total, rel=REL)
    assert amount(page, "[data-testid=idle]") == pytest.approx(seeded.idle, rel=REL)
    serving = sum(seeded.instance_amount(i) for i in INSTANCES)
    assert amount(page, "[data-testid=category-serving]") == pytest.approx(serving, rel=REL)
    assert amount(page, "[data-testid=category-run]") == pytest.approx(seeded.run_amount, rel=REL)
    calls = sum(seeded.calls(i) for i in INSTANCES)
    expect(page.get_by_test_id("calls")).to_have_text(f"{calls:,}")
    # The text a person reads is the same amount, rounded to three digits.
    shown = float(page.get_by_test_id("total").inner_text())
    assert shown == pytest.approx(seeded.total, abs=0.0005 + 1e-12)

    table = page.get_by_test_id("breakdown")
    for i in INSTANCES:
        row = table.locator(f"tr[data-group='{i.service}']")
        expected = seeded.instance_amount(i)
        assert amount(page, f"tr[data-group='{i.service}'] .cell-amount") == pytest.approx(
            expected, rel=REL
        )
        per_1k = 1000 * expected / seeded.calls(i)
        assert float(row.locator(".cell-per-1k data").get_attribute("value") or "nan") == (
            pytest.approx(per_1k, rel=REL)
        )
        op = page.get_by_test_id("per-call").locator(f"tr[data-operation='{i.operation}']")
        expect(op.locator(".cell-calls")).to_have_text(f"{seeded.calls(i):,}")
        assert float(op.locator(".cell-per-1k data").get_attribute("value") or "nan") == (
            pytest.approx(per_1k, rel=REL)
        )
    runs = page.get_by_test_id("run-costs").locator("tbody tr")
    expect(runs).to_have_count(1)
    expect(runs.first).to_have_attribute("data-run", seeded.run_id)
    expect(runs.first).to_contain_text(TRAIN)
    assert float(
        runs.first.locator(".cell-amount data").get_attribute("value") or "nan"
    ) == pytest.approx(seeded.run_amount, rel=REL)
    with page.expect_navigation():
        runs.first.get_by_role("link").click()
    assert page.url == server.url + f"/runs/{seeded.run_id}"
    tab.issues.assert_none()


def test_group_by_resource_and_the_range_picker(
    cost_server: tuple[LiveServer, SeededCost], tab: BrowserPage
) -> None:
    server, seeded = cost_server
    page = tab.page
    page.goto(server.url + "/cost")
    with page.expect_navigation():
        page.get_by_test_id("group-picker").get_by_role("link", name="Resource").click()
    assert page.url == server.url + "/cost?range=30d&group=resource"
    hours = seeded.up_hours
    cpu = sum(i.cores for i in INSTANCES) * hours * CPU_RATE + CPU_SHARE * CPU_RATE
    ram = sum(i.memory_gib for i in INSTANCES) * hours * RAM_RATE + PEAK_RSS / GIB * RAM_RATE
    assert amount(page, "tr[data-group=CPU] .cell-amount") == pytest.approx(cpu, rel=REL)
    assert amount(page, "tr[data-group=Memory] .cell-amount") == pytest.approx(ram, rel=REL)
    picker = page.get_by_test_id("range-picker")
    with page.expect_navigation():
        picker.get_by_role("link", name="Last 7 days").click()
    assert page.url == server.url + "/cost?range=7d&group=resource"
    expect(picker.locator("a[aria-current=true]")).to_have_text("Last 7 days")
    assert amount(page, "[data-testid=total]") == pytest.approx(seeded.total, rel=REL)
    with page.expect_navigation():
        picker.get_by_role("link", name="This month").click()
    start = float(page.get_by_test_id("range").get_attribute("data-start") or "nan")
    assert start == month_start(time.time())
    tab.issues.assert_none()


def test_daily_trend_is_stacked_by_resource(
    cost_server: tuple[LiveServer, SeededCost], tab: BrowserPage
) -> None:
    server, seeded = cost_server
    page = tab.page
    page.goto(server.url + "/cost")
    wait_for_charts(page)
    plot = page.locator("#chart-daily [data-chart]")
    expect(plot).to_have_attribute("data-state", "drawn")
    traces = plot.evaluate("el => el.data.map(t => [t.name, t.x.length, t.y])")
    assert [name for name, _, _ in traces] == ["CPU", "Memory"]
    assert all(days == 30 for _, days, _ in traces)
    assert sum(sum(y) for _, _, y in traces) == pytest.approx(seeded.total, rel=REL)
    tab.issues.assert_none()


def test_budgets_show_spent_forecast_and_breaches(
    cost_server: tuple[LiveServer, SeededCost], tab: BrowserPage
) -> None:
    server, seeded = cost_server
    page = tab.page
    page.goto(server.url + "/cost")
    budgets = page.get_by_test_id("budgets")
    states = {"everything": "ok", "fraud-daily": "breached", "rec-monthly": "forecast"}
    labels = {"ok": "Within budget", "breached": "Over budget", "forecast": "Forecast over budget"}
    for name, state in states.items():
        item = budgets.locator(f"li[data-budget='{name}']")
        expect(item).to_have_attribute("data-state", state)
        expect(item.locator(".status")).to_have_text(labels[state])
        bar = item.get_by_role("progressbar")
        spent = float(item.locator(".budget-spent-value").get_attribute("value") or "nan")
        forecast = float(item.locator(".budget-forecast-value").get_attribute("value") or "nan")
        limit = float(item.locator(".budget-limit").get_attribute("value") or "nan")
        assert float(bar.get_attribute("aria-valuenow") or "nan") == pytest.approx(
            min(spent, limit)
        )
        assert (spent > limit) == (state == "breached")
        assert (forecast > limit) == (state != "ok")
        # The forecast carries the rate so far to the end of the period.
        api = budget(server.url, name)
        assert spent == pytest.approx(api["spent"], rel=REL)
        assert api["limit"] == limit
    everything = budgets.locator("li[data-budget=everything] .budget-spent-value")
    if seeded.first >= month_start(time.time()):  # all the usage is in this month
        spent = float(everything.get_attribute("value") or "nan")
        assert spent == pytest.approx(seeded.total, rel=REL)
    # A breach of the forecast is highlighted, so is a breach of the limit.
    expect(budgets.locator("li[data-budget='rec-monthly'] .budget-figures .over")).to_be_visible()
    expect(budgets.locator("li[data-budget='everything'] .budget-figures .over")).to_have_count(0)
    tab.issues.assert_none()


def test_export_link_downloads_the_csv_of_the_same_total(
    cost_server: tuple[LiveServer, SeededCost], tab: BrowserPage
) -> None:
    server, _ = cost_server
    page = tab.page
    page.goto(server.url + "/cost?range=7d")
    total = amount(page, "[data-testid=total]")
    with page.expect_download() as info:
        page.get_by_test_id("export").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    path = download.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    assert rows and {"BilledCost", "ChargePeriodStart", "SkuId"} <= set(rows[0])
    assert sum(float(r["BilledCost"]) for r in rows) == pytest.approx(total, rel=REL)
    assert {r["SkuId"] for r in rows} == {"cpu", "ram"}
    tab.issues.assert_none()


def test_overview_shows_the_months_cost_and_budgets(
    cost_server: tuple[LiveServer, SeededCost], tab: BrowserPage
) -> None:
    server, _ = cost_server
    page = tab.page
    page.goto(server.url + "/cost?range=month")
    month = amount(page, "[data-testid=total]")
    page.goto(server.url + "/")
    assert amount(page, "[data-testid=glance-cost]") == pytest.approx(month, rel=REL)
    expect(page.get_by_test_id("glance-budgets")).to_have_text("1 over budget")
    with page.expect_navigation():
        page.get_by_test_id("glance-cost").click()
    assert page.url == server.url + "/cost?range=month"
    tab.issues.assert_none()


def test_cost_page_fits_a_phone_screen(
    cost_server: tuple[LiveServer, SeededCost], tab: BrowserPage
) -> None:
    server, _ = cost_server
    page = tab.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/cost")
    wait_for_charts(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("[data-chart] svg.main-svg").first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshot(page, "cost-phone")
    tab.issues.assert_none()


def test_cost_page_with_instances_that_report_no_allocation(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    """Instances without allocated cores are billed for their measured CPU only, and the
    page says so rather than showing a silent zero."""
    page = browser_page.page
    page.goto(seeded_server.url + "/cost")
    warnings = page.get_by_test_id("warnings")
    expect(warnings).to_contain_text(
        "CPU allocation of instance 'host-0' of service 'recommender' is unknown"
    )
    # Eight warnings (CPU and memory of four instances): three in view, the rest folded.
    expect(warnings.locator("li")).to_have_count(8)
    expect(warnings.locator("li:visible")).to_have_count(3)
    expect(page.get_by_test_id("no-budgets")).to_be_visible()
    browser_page.issues.assert_none()


def test_cost_page_reads_the_same_from_postgresql(
    pg_url: str, tmp_path: Path, tab: BrowserPage
) -> None:
    """The same usage on PostgreSQL comes to the same hand-computed total."""
    rates = tmp_path / "rates.yaml"
    rates.write_text(RATE_CARD)
    server = start_server(tmp_path / "server", "--db", pg_url, "--rate-card", str(rates))
    try:
        seeded = seed_cost(server.url, time.time())
        page = tab.page
        page.goto(server.url + "/cost")
        assert amount(page, "[data-testid=total]") == pytest.approx(seeded.total, rel=REL)
        assert amount(page, "[data-testid=idle]") == pytest.approx(seeded.idle, rel=REL)
        summary = httpx.get(server.url + "/api/v1/summary").json()
        assert summary["backend"] == "postgresql"
    finally:
        stop_server(server)
    tab.issues.assert_none()
