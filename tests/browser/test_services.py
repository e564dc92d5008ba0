"""The Services pages in headless Chromium, against a real server holding a seeded fleet.

Two services (two versions on three instances each) sent 10-second windows for 55 minutes;
one instance of ``recommender`` went silent five minutes ago. Every number checked here is
computed from what was sent (numpy on the raw latencies), never from the server's answers.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from .harness import (
    BrowserPage,
    LiveServer,
    start_server,
    stop_server,
    wait_for_charts,
)
from .services_fleet import (
    VERSIONS,
    Fleet,
    build_fleet,
    closed_port,
    ingest_fleet,
    listening_port,
    start_server_with_probes,
    wait_for_probes,
)

pytestmark = pytest.mark.browser

ALPHA = 0.01  # the relative error bound of the latency sketches
PROBES = """\
probes:
  - {{name: recommender-api, url: "tcp://127.0.0.1:{up}", interval: 1, timeout: 1}}
  - {{name: recommender-db, url: "tcp://127.0.0.1:{down}", interval: 1, timeout: 1}}
  - {{name: payments, url: "http://127.0.0.1:{down}/healthz", interval: 1, timeout: 1}}
"""
CHARTS = ("calls", "errors", "failures", "latency", "cpu", "memory", "process-cpu")


@pytest.fixture(scope="module")
def fleet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Fleet]]:
    with listening_port() as up:
        server = start_server_with_probes(
            tmp_path_factory.mktemp("fleet"), PROBES.format(up=up, down=closed_port())
        )
        try:
            fleet = build_fleet(time.time())
            ingest_fleet(server, fleet)
            wait_for_probes(server, {"recommender-api", "recommender-db", "payments"})
            yield server, fleet
        finally:
            stop_server(server)


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("empty"))
    try:
        yield server
    finally:
        stop_server(server)


def range_start(page: Page) -> float:
    """The start of the range the page shows (aligned to its step), from the page itself."""
    value = page.get_by_test_id("range").get_attribute("data-start")
    assert value is not None
    return float(value)


def total_calls(page: Page) -> int:
    value = page.get_by_test_id("total-calls").locator("data").get_attribute("value")
    assert value is not None
    return int(value)


def traces(page: Page, chart: str) -> list[str]:
    names: list[str] = page.locator(f"#chart-{chart} [data-chart]").evaluate(
        "el => el.data.map(t => t.name)"
    )
    return names


def screenshot(page: Page, suffix: str) -> None:
    """With MLVITALS_SCREENSHOT=/tmp/x.png set, also save /tmp/x-<suffix>.png for review."""
    target = os.environ.get("MLVITALS_SCREENSHOT")
    if target:
        path = Path(target)
        page.screenshot(path=str(path.with_stem(f"{path.stem}-{suffix}")), full_page=True)


def test_services_list_shows_every_service_with_its_instances_up(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    page.goto(server.url + "/services")
    expect(page.get_by_role("heading", level=1)).to_have_text("Services")
    rows = page.get_by_test_id("services-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    recommender = page.locator("tr[data-service=recommender]")
    expect(recommender.locator(".cell-instances")).to_have_text("2 of 3")
    expect(recommender.locator(".cell-status")).to_have_text("Degraded")
    fraud = page.locator("tr[data-service=fraud]")
    expect(fraud.locator(".cell-instances")).to_have_text("3 of 3")
    expect(fraud.locator(".cell-status")).to_have_text("Up")
    for row in (recommender, fraud):
        expect(row.locator(".cell-p99")).to_have_text(re.compile(r"^\d[\d.]* ms$"))
        expect(row.locator(".cell-seen")).to_have_text("just now")
    # Every probe target is listed, with its availability over the last day.
    probes = page.get_by_test_id("probes-table")
    expect(probes.locator("tr[data-probe=recommender-api] .cell-availability")).to_have_text(
        "100 %"
    )
    expect(probes.locator("tr[data-probe=recommender-db] .cell-availability")).to_have_text("0 %")
    expect(probes.locator("tr[data-probe=payments]")).to_be_visible()
    with page.expect_navigation():
        recommender.get_by_role("link", name="recommender").click()
    assert page.url == server.url + "/services/recommender"
    expect(page.get_by_role("heading", level=1)).to_have_text("recommender")
    screenshot(page, "services")
    tab.issues.assert_none()


def test_service_page_draws_every_chart_with_data(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    page.goto(server.url + "/services/recommender")
    wait_for_charts(page)
    for name in CHARTS:
        plot = page.locator(f"#chart-{name} [data-chart]")
        expect(plot).to_have_attribute("data-state", "drawn")
        expect(plot.locator("svg.main-svg").first).to_be_visible()
        points = plot.evaluate("el => el.data.map(t => t.y.filter(v => v !== null).length)")
        assert points and all(n > 0 for n in points), (name, points)
    assert traces(page, "latency") == ["p50", "p90", "p95", "p99"]
    assert traces(page, "memory") == ["rec-1", "rec-2", "rec-3"]
    assert sorted(traces(page, "failures")) == ["TimeoutError", "ValueError"]
    # recommender reports no GPU: a note instead of two empty charts.
    expect(page.get_by_test_id("no-gpu")).to_be_visible()
    expect(page.locator("#chart-gpu-utilization")).to_have_count(0)
    tab.issues.assert_none()


def test_gpu_charts_appear_for_a_service_that_reports_a_gpu(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    page.goto(server.url + "/services/fraud")
    wait_for_charts(page)
    expect(page.get_by_test_id("no-gpu")).to_have_count(0)
    for name in ("gpu-utilization", "gpu-memory"):
        expect(page.locator(f"#chart-{name} [data-chart]")).to_have_attribute("data-state", "drawn")
        assert traces(page, name) == ["fraud-1", "fraud-2", "fraud-3"]
    # Each instance's two windows per 10 s hold (0.2 + 0.1 * i) of GPU busy time per second.
    utilization = page.locator("#chart-gpu-utilization [data-chart]").evaluate(
        "el => el.data.map(t => t.y.filter(v => v !== null))"
    )
    for i, values in enumerate(utilization, start=1):
        inner = values[1:-1]  # the first and last steps are partly outside the seeded time
        assert np.median(inner) == pytest.approx(100 * (0.2 + 0.1 * i), rel=1e-6)
    tab.issues.assert_none()


def test_split_by_version_draws_one_trace_per_version(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    page.goto(server.url + "/services/recommender")
    with page.expect_navigation():
        page.get_by_test_id("split-picker").get_by_role("link", name="Version").click()
    assert "split=version" in page.url
    wait_for_charts(page)
    for chart in ("calls", "errors", "latency", "cpu"):
        assert traces(page, chart) == list(VERSIONS), chart
    expect(page.locator("#chart-calls-title")).to_have_text("Calls per second by version")
    page.goto(server.url + "/services/recommender?split=instance")
    wait_for_charts(page)
    assert traces(page, "calls") == ["rec-1", "rec-2", "rec-3"]
    page.goto(server.url + "/services/recommender?split=operation")
    wait_for_charts(page)
    assert traces(page, "calls") == ["explain", "predict"]
    tab.issues.assert_none()


def test_operations_table_p99_matches_numpy_within_the_sketch_bound(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, fleet = fleet_server
    page = tab.page
    page.goto(server.url + "/services/recommender")
    since = range_start(page)
    table = page.get_by_test_id("operations-table")
    for operation in ("predict", "explain"):
        row = table.locator(f"tr[data-operation={operation}]")
        calls = row.locator(".cell-calls data").get_attribute("value")
        assert calls is not None
        assert int(calls) == fleet.calls("recommender", since, operation=operation)
        values = fleet.latencies("recommender", since, operation=operation)
        expected = float(np.quantile(values, 0.99, method="lower"))
        shown = row.locator(".cell-p99 data").get_attribute("value")
        assert shown is not None
        assert float(shown) == pytest.approx(expected, rel=ALPHA), operation
        # The text a person reads says the same, in milliseconds with three digits.
        text = row.locator(".cell-p99").inner_text()
        match = re.fullmatch(r"([\d.]+) ms", text)
        assert match, text
        assert float(match.group(1)) / 1000 == pytest.approx(expected, rel=ALPHA + 0.005)
    assert total_calls(page) == fleet.calls("recommender", since)
    tab.issues.assert_none()


def test_range_picker_changes_the_url_and_the_data(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, fleet = fleet_server
    page = tab.page
    page.goto(server.url + "/services/fraud")
    picker = page.get_by_test_id("range-picker")
    expect(picker.locator("a[aria-current=true]")).to_have_text("1h")
    hour_calls = total_calls(page)
    assert hour_calls == fleet.calls("fraud", range_start(page))
    with page.expect_navigation():
        picker.get_by_role("link", name="15m").click()
    assert page.url.endswith("/services/fraud?range=15m")
    expect(picker.locator("a[aria-current=true]")).to_have_text("15m")
    since = range_start(page)
    assert time.time() - since == pytest.approx(900, abs=60)
    assert total_calls(page) == fleet.calls("fraud", since)
    assert 0 < total_calls(page) < hour_calls
    wait_for_charts(page)
    # Ten-second steps over 15 minutes: about 90 points per series.
    (x,) = page.locator("#chart-calls [data-chart]").evaluate("el => el.data.map(t => t.x.length)")
    assert 88 <= x <= 92
    tab.issues.assert_none()


def test_version_filter_narrows_calls_to_that_version(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, fleet = fleet_server
    page = tab.page
    page.goto(server.url + "/services/recommender?range=1h&split=instance")
    page.get_by_label("Version").select_option("v1")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert "version=v1" in page.url and "split=instance" in page.url
    since = range_start(page)
    v1 = fleet.calls("recommender", since, version="v1")
    assert total_calls(page) == v1 < fleet.calls("recommender", since)
    # Only v2 serves "explain": with v1 chosen, the table has "predict" alone.
    rows = page.get_by_test_id("operations-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-operation", "predict")
    wait_for_charts(page)
    chart_calls = page.locator("#chart-calls [data-chart]").evaluate(
        "el => el.data.map(t => t.y.reduce((sum, v) => sum + (v === null ? 0 : v), 0))"
    )
    step = float(page.get_by_test_id("range").get_attribute("data-step") or "nan")
    # Calls per second times the step gives the calls of each step back.
    assert sum(chart_calls) * step == pytest.approx(v1, rel=1e-9)
    with page.expect_navigation():
        page.get_by_role("link", name="Clear filters").click()
    assert total_calls(page) == fleet.calls("recommender", range_start(page))
    tab.issues.assert_none()


def test_instances_table_marks_the_silent_instance_down(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    page.goto(server.url + "/services/recommender")
    expect(page.get_by_test_id("instances-up")).to_have_text("2 of 3 instances up")
    table = page.get_by_test_id("instances-table")
    for instance, status in (("rec-1", "Up"), ("rec-2", "Up"), ("rec-3", "Down")):
        expect(table.locator(f"tr[data-instance={instance}] .cell-status")).to_have_text(status)
    expect(table.locator("tr[data-instance=rec-3] time")).to_have_text(
        re.compile(r"^[56] min ago$")
    )
    # Only the probes named after the service are on its page.
    probes = page.get_by_test_id("probes-table").locator("tbody tr")
    expect(probes).to_have_count(2)
    expect(page.locator("tr[data-probe=payments]")).to_have_count(0)
    tab.issues.assert_none()


def test_unknown_service_is_a_404_page(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    response = page.goto(server.url + "/services/no-such-service")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Service not found")
    expect(page.get_by_role("alert")).to_contain_text("no-such-service")
    with page.expect_navigation():
        page.get_by_role("link", name="list of services").click()
    assert page.url == server.url + "/services"
    issues = tab.issues
    assert issues.error_responses == [f"404 {server.url}/services/no-such-service"]
    # Chromium logs the 404 of the page itself to the console; nothing else may be there.
    assert all("404" in message for message in issues.console_errors)
    assert issues.page_errors == issues.failed_requests == issues.off_server == []


def test_overview_names_the_services_that_are_not_healthy(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    page.goto(server.url + "/")
    # recommender has one of its three instances down; fraud is healthy.
    unhealthy = page.get_by_test_id("attention").locator("li[data-kind=service]")
    expect(unhealthy).to_have_count(1)
    expect(unhealthy).to_contain_text("recommender: 1 of 3 instances down")
    expect(page.get_by_test_id("healthy-services")).to_have_text("1")
    with page.expect_navigation(wait_until="domcontentloaded"):
        unhealthy.get_by_role("link", name="recommender").click()
    assert page.url == server.url + "/services/recommender"
    tab.issues.assert_none()


def test_empty_services_page_says_how_to_start(empty_server: LiveServer, tab: BrowserPage) -> None:
    page = tab.page
    page.goto(empty_server.url + "/services")
    expect(
        page.get_by_role("heading", level=2, name="Nothing recorded yet — how to start")
    ).to_be_visible()
    expect(page.locator("pre code")).to_contain_text("instance_sample")
    expect(page.get_by_test_id("services-table")).to_have_count(0)
    tab.issues.assert_none()


def test_service_page_fits_a_phone_screen(
    fleet_server: tuple[LiveServer, Fleet], tab: BrowserPage
) -> None:
    server, _ = fleet_server
    page = tab.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/services/fraud?split=version")
    wait_for_charts(page)
    # Tables scroll inside their own box; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for box in page.locator("[data-chart] svg.main-svg").all():
        bounds = box.bounding_box()
        assert bounds is not None and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 390
    screenshot(page, "service-phone")
    tab.issues.assert_none()
