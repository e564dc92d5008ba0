"""The Pipelines and run pages in headless Chromium, against a real server fed by the SDK.

The runs were made by ``RunTracker`` and posted by ``HttpSink`` (see ``pipelines_seed``):
an hourly ETL with one late run, one missed slot and one run that wrote 40 rows instead of
1,000; a training run that failed after scikit-learn was upgraded; a deployment. Every
number checked comes from what was sent or from the files on disk, never from the pages.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from .harness import BrowserPage, LiveServer, start_server, stop_server, wait_for_charts
from .pipelines_seed import (
    DEPLOY,
    ETL,
    FEW,
    FEW_ROWS,
    FIT_ERROR,
    LATE,
    MISSED,
    MODEL_VERSION,
    NORMAL,
    NORMAL_ROWS,
    SERVICE,
    SERVING_VERSION,
    STEP_SECONDS,
    TRAIN,
    Seeded,
    seed_pipelines,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pipelines_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, Seeded]]:
    folder = tmp_path_factory.mktemp("pipelines")
    server = start_server(folder / "server")
    try:
        yield server, seed_pipelines(server.url, folder / "files", time.time())
    finally:
        stop_server(server)


def screenshot(page: Page, suffix: str) -> None:
    """With MLVITALS_SCREENSHOT=/tmp/x.png set, also save /tmp/x-<suffix>.png for review."""
    target = os.environ.get("MLVITALS_SCREENSHOT")
    if target:
        path = Path(target)
        page.screenshot(path=str(path.with_stem(f"{path.stem}-{suffix}")), full_page=True)


def chart_spec(page: Page, chart: str) -> dict[str, Any]:
    """What the server sent to draw a chart (Unix seconds, before the browser's time zone)."""
    text = page.locator(f"#{chart}-data").text_content()
    assert text is not None
    spec: dict[str, Any] = json.loads(text)
    return spec


def data_value(page: Page, selector: str) -> str:
    value = page.locator(selector).locator("data").get_attribute("value")
    assert value is not None, selector
    return value


def test_list_shows_each_pipelines_state_and_schedule_flags(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    page = tab.page
    page.goto(server.url + "/pipelines")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pipelines")
    expect(page.get_by_test_id("pipelines-table").locator("tbody tr")).to_have_count(3)

    etl = page.locator(f"tr[data-pipeline='{ETL}']")
    expect(etl.locator(".cell-kind")).to_have_text("data")
    expect(etl.locator(".cell-last [data-state]")).to_have_text("Succeeded")
    counts = etl.locator(".schedule-counts")
    on_time = len(seeded.etl(NORMAL)) + len(seeded.etl(FEW))
    expect(counts).to_have_attribute("data-on-time", str(on_time))
    expect(counts).to_have_attribute("data-late", "1")
    expect(counts).to_have_attribute("data-missed", "1")
    # Late and missed are flagged (highlighted), not just counted.
    expect(etl.get_by_test_id("late")).to_have_class(re.compile(r"\bflag-late\b"))
    expect(etl.get_by_test_id("missed")).to_have_class(re.compile(r"\bflag-missed\b"))
    expect(etl.locator(".cell-next time")).to_have_text(re.compile(r"^in (3[5-9]|40) min$"))

    train = page.locator(f"tr[data-pipeline='{TRAIN}']")
    expect(train.locator(".cell-last [data-state]")).to_have_text("Failed")
    expect(train.locator(".cell-health")).to_have_text("Failing")
    expect(train.locator(".cell-schedule")).to_have_text("not scheduled")
    expect(page.locator(f"tr[data-pipeline='{DEPLOY}'] .cell-kind")).to_have_text("deployment")
    expect(page.get_by_test_id("total-failing")).to_have_text("1")

    # Health is the API's, pipeline by pipeline.
    api = httpx.get(server.url + "/api/v1/pipelines").json()["pipelines"]
    for item in api:
        row = page.locator(f"tr[data-pipeline='{item['pipeline']}'] [data-health]")
        expect(row).to_have_attribute("data-health", item["health"])
    tab.issues.assert_none()


def test_timeline_draws_every_run_and_the_missed_slot(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    page = tab.page
    page.goto(server.url + "/pipelines")
    wait_for_charts(page)
    plot = page.locator("#chart-timeline [data-chart]")
    expect(plot).to_have_attribute("data-state", "drawn")
    # One bar per run, in rows named after the pipelines.
    bars = plot.evaluate(
        "el => el.data.filter(t => t.type === 'bar').flatMap(t => t.y.map(y => [t.name, y]))"
    )
    sent = sorted((r.state, r.pipeline) for r in seeded.runs)
    assert sorted(tuple(b) for b in bars) == sent
    expect(plot.locator("g.trace.bars g.point")).to_have_count(len(seeded.runs))
    spec = chart_spec(page, "chart-timeline")
    series = {s["name"]: s for s in spec["series"]}
    # A cross at the missed slot, ticks at the scheduled times of the runs.
    assert series["missed"]["x"] == [seeded.slot_of(MISSED)]
    ticks = series["scheduled"]
    etl_ticks = [x for x, y in zip(ticks["x"], ticks["y"], strict=True) if y == ETL]
    assert sorted(etl_ticks) == sorted(r.slot for r in seeded.of(ETL))
    # The late run's bar starts 20 minutes after its tick.
    (late,) = seeded.etl(LATE)
    starts = dict(zip(series["succeeded"]["link"], series["succeeded"]["x"], strict=True))
    assert starts[f"/runs/{late.run_id}"] == pytest.approx(late.started)
    assert late.started - (late.slot or 0.0) == pytest.approx(1200.0)
    tab.issues.assert_none()


def test_range_picker_changes_the_range(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    page = tab.page
    page.goto(server.url + "/pipelines")
    picker = page.get_by_test_id("range-picker")
    expect(picker.locator("a[aria-current=true]")).to_have_text("7d")
    with page.expect_navigation():
        picker.get_by_role("link", name="24h").click()
    assert page.url == server.url + "/pipelines?range=24h"
    expect(picker.locator("a[aria-current=true]")).to_have_text("24h")
    expect(page.locator("#timeline-heading")).to_have_text("Runs, last 24 hours")
    expect(page.get_by_test_id("total-runs")).to_have_text(str(len(seeded.runs)))
    with page.expect_navigation():
        page.get_by_role("link", name=ETL, exact=True).click()
    assert page.url == server.url + f"/pipelines/{ETL}?range=24h"
    tab.issues.assert_none()


def test_pipeline_page_flags_the_late_missed_and_short_runs(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    page = tab.page
    page.goto(server.url + f"/pipelines/{ETL}")
    expect(page.get_by_role("heading", level=1)).to_have_text(ETL)
    expect(page.get_by_test_id("late")).to_have_text("1")
    expect(page.get_by_test_id("missed")).to_have_text("1")
    expect(page.get_by_test_id("total-runs")).to_have_text(str(len(seeded.of(ETL))))

    flags = page.get_by_test_id("flags")
    (late,) = seeded.etl(LATE)
    late_flag = flags.locator("li[data-kind='late start']")
    expect(late_flag).to_have_attribute("data-run", late.run_id)
    expect(late_flag).to_contain_text("started 20.0 min after")
    missed_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seeded.slot_of(MISSED)))
    expect(flags.locator("li[data-kind=missed]")).to_contain_text(f"no run for {missed_at}")
    (few,) = seeded.etl(FEW)
    anomaly = flags.locator("li[data-kind=anomaly]")
    expect(anomaly).to_have_count(1)
    expect(anomaly).to_have_attribute("data-run", few.run_id)
    expect(anomaly).to_contain_text(f"step extract: rows written {FEW_ROWS}, below the usual")
    expect(anomaly).to_contain_text(f"(median {NORMAL_ROWS:,} of")

    table = page.get_by_test_id("runs-table")
    expect(table.locator("tbody tr")).to_have_count(len(seeded.of(ETL)))
    late_row = table.locator(f"tr[data-run='{late.run_id}']")
    expect(late_row.locator(".cell-delay")).to_have_text("20.0 min late")
    # CPU time is what the meter reported: half a core over the run's wall time.
    wall = STEP_SECONDS["extract"] + STEP_SECONDS["transform"] + STEP_SECONDS["load"]
    cpu = late_row.locator("td[data-label=CPU] data").get_attribute("value")
    assert cpu is not None and float(cpu) == pytest.approx(0.5 * wall)

    wait_for_charts(page)
    rows = chart_spec(page, "chart-rows")["series"]
    extract = next(s for s in rows if s["name"] == "extract")
    runs = sorted(seeded.of(ETL), key=lambda r: r.started)
    assert extract["x"] == pytest.approx([r.started for r in runs])
    assert extract["y"] == [r.rows for r in runs]
    for chart in ("duration", "rows", "bytes"):
        expect(page.locator(f"#chart-{chart} [data-chart]")).to_have_attribute(
            "data-state", "drawn"
        )
    tab.issues.assert_none()


def test_run_page_shows_steps_and_what_they_wrote(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    (few,) = seeded.etl(FEW)
    assert few.folder is not None
    page = tab.page
    page.goto(server.url + f"/runs/{few.run_id}")
    expect(page.get_by_test_id("run-id")).to_have_text(few.run_id)
    steps = page.locator("[data-testid=steps] > li")
    numbers = steps.evaluate_all("els => els.map(e => [e.dataset.number, e.dataset.step])")
    assert numbers == [["1", "extract"], ["2", "transform"], ["2.1", "clean"], ["3", "load"]]
    expect(page.locator("li[data-step=clean]")).to_have_attribute("data-depth", "1")

    extract = page.locator("li[data-step=extract]")
    raw = extract.get_by_test_id("outputs").locator("tr[data-dataset='orders/raw']")
    files = sorted((few.folder / "raw").iterdir())
    assert data_value(page, "li[data-step=extract] [data-testid=outputs] .cell-rows") == str(
        FEW_ROWS
    )
    expect(raw.locator(".cell-files")).to_have_text(str(len(files)))
    expect(raw.locator(".cell-types")).to_have_text("csv × 2")
    size = raw.locator(".cell-size data").get_attribute("value")
    assert size is not None and int(size) == sum(f.stat().st_size for f in files)
    raw.get_by_text("Schema, 3 columns").click()
    expect(raw.get_by_test_id("schema").locator("code")).to_have_text(
        ["order_id", "customer", "amount"]
    )
    for step in ("transform", "load"):
        cell = page.locator(f"li[data-step={step}] [data-testid=outputs] .cell-rows data")
        expect(cell).to_have_attribute("value", str(FEW_ROWS))
    # The short run is flagged against the baseline of the good runs before it.
    expect(page.get_by_test_id("flags")).to_contain_text(f"rows written {FEW_ROWS}")

    wait_for_charts(page)
    spec = chart_spec(page, "chart-steps")
    assert spec["options"]["rows"] == ["1 extract", "2 transform", "2.1 clean", "3 load"]
    durations = {
        y: end - x
        for s in spec["series"]
        for x, y, end in zip(s["x"], s["y"], s["end"], strict=True)
    }
    assert durations["2.1 clean"] == pytest.approx(STEP_SECONDS["clean"])
    tab.issues.assert_none()


def test_failed_run_shows_the_error_and_the_package_that_changed(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    failed = seeded.only(TRAIN, "failed")
    good = seeded.only(TRAIN, "succeeded")
    page = tab.page
    page.goto(server.url + f"/runs/{failed.run_id}")
    error = page.get_by_test_id("error")
    expect(error.locator(".error-type")).to_have_text("ValueError")
    expect(error.locator(".error-message")).to_have_text(FIT_ERROR)
    traceback = error.locator("details pre")
    expect(traceback).to_be_hidden()
    error.locator("summary", has_text="Traceback").click()
    expect(traceback).to_contain_text(f"raise ValueError(FIT_ERROR)\nValueError: {FIT_ERROR}")

    diff = page.get_by_test_id("env-diff").locator("tbody tr")
    expect(diff).to_have_count(1)
    row = diff.first
    expect(row).to_have_attribute("data-package", "scikit-learn")
    expect(row.locator(".cell-change")).to_have_text("upgraded")
    expect(row.locator(".cell-before")).to_have_text("1.4.2")
    expect(row.locator(".cell-after")).to_have_text("1.5.0")
    # The diff names the run it compares with; that run produced the model.
    with page.expect_navigation():
        page.get_by_role("link", name=f"run {good.run_id[:8]}").click()
    assert page.url == server.url + f"/runs/{good.run_id}"
    expect(page.get_by_test_id("model-version")).to_have_text(MODEL_VERSION)
    expect(page.get_by_test_id("error")).to_have_count(0)
    tab.issues.assert_none()


def test_training_and_deployment_runs_link_model_and_service(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    page = tab.page
    page.goto(server.url + f"/pipelines/{TRAIN}")
    good = seeded.only(TRAIN, "succeeded")
    row = page.get_by_test_id("runs-table").locator(f"tr[data-run='{good.run_id}']")
    expect(row.locator("td[data-label='Model version']")).to_have_text(MODEL_VERSION)
    deploy = seeded.only(DEPLOY, "succeeded")
    page.goto(server.url + f"/runs/{deploy.run_id}")
    link = page.get_by_test_id("deployment")
    expect(link).to_have_text(f"{SERVICE} {SERVING_VERSION}")
    expect(link).to_have_attribute("href", f"/services/{SERVICE}?version={SERVING_VERSION}")
    expect(page.get_by_test_id("model-version")).to_have_text(MODEL_VERSION)
    tab.issues.assert_none()


def test_overview_counts_failing_pipelines(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, _ = pipelines_server
    page = tab.page
    page.goto(server.url + "/")
    expect(page.get_by_test_id("glance-failing")).to_have_text("1")
    expect(page.get_by_test_id("glance-behind")).to_have_text("0")
    expect(page.get_by_test_id("glance-overdue")).to_have_text("0")
    with page.expect_navigation():
        page.get_by_test_id("glance-failing").click()
    assert page.url == server.url + "/pipelines"
    tab.issues.assert_none()


def test_unknown_pipeline_and_run_are_404_pages(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, _ = pipelines_server
    page = tab.page
    for path, heading in (
        ("/pipelines/no-such", "Pipeline not found"),
        ("/runs/nope", "Run not found"),
    ):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    issues = tab.issues
    assert issues.error_responses == [
        f"404 {server.url}/pipelines/no-such",
        f"404 {server.url}/runs/nope",
    ]
    # Chromium logs each 404 page to the console; nothing else may be there.
    assert all("404" in message for message in issues.console_errors)
    assert issues.page_errors == issues.failed_requests == issues.off_server == []


def test_pipelines_pages_fit_a_phone_screen(
    pipelines_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = pipelines_server
    page = tab.page
    page.set_viewport_size({"width": 390, "height": 844})
    failed = seeded.only(TRAIN, "failed")
    for path, name in (
        ("/pipelines", "pipelines-phone"),
        (f"/pipelines/{ETL}", "pipeline-phone"),
        (f"/runs/{failed.run_id}", "run-phone"),
    ):
        page.goto(server.url + path)
        wait_for_charts(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        for svg in page.locator("[data-chart] svg.main-svg").all():
            box = svg.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, path
        screenshot(page, name)
    tab.issues.assert_none()


def test_pages_read_the_same_from_postgresql(pg_url: str, tmp_path: Path, tab: BrowserPage) -> None:
    """The pages' queries are portable: the same seed on PostgreSQL shows the same flags."""
    server = start_server(tmp_path / "server", "--db", pg_url)
    try:
        seeded = seed_pipelines(server.url, tmp_path / "files", time.time())
        page = tab.page
        page.goto(server.url + "/pipelines")
        counts = page.locator(f"tr[data-pipeline='{ETL}'] .schedule-counts")
        expect(counts).to_have_attribute("data-late", "1")
        expect(counts).to_have_attribute("data-missed", "1")
        (few,) = seeded.etl(FEW)
        page.goto(server.url + f"/pipelines/{ETL}")
        expect(page.locator("li[data-kind=anomaly]")).to_have_attribute("data-run", few.run_id)
        page.goto(server.url + f"/runs/{seeded.only(TRAIN, 'failed').run_id}")
        expect(page.locator("[data-testid=env-diff] tr[data-package=scikit-learn]")).to_be_visible()
        summary = httpx.get(server.url + "/api/v1/summary").json()
        assert summary["backend"] == "postgresql"
    finally:
        stop_server(server)
    tab.issues.assert_none()
