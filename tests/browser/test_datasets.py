"""The Datasets pages in headless Chromium, against a real server fed by ``Monitor.check``.

Every number checked comes from the engine's results that the seed kept (or from numpy on
the seeded data), never from the pages or the API.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from .datasets_seed import BAD_AGE, DATASET, PROFILED, SHIFTS, Seeded, seed_datasets
from .harness import BrowserPage, LiveServer, start_server, stop_server, wait_for_charts

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def datasets_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, Seeded]]:
    server = start_server(tmp_path_factory.mktemp("datasets"))
    try:
        yield server, seed_datasets(server.url, time.time())
    finally:
        stop_server(server)


def screenshot(page: Page, suffix: str) -> None:
    target = os.environ.get("MLVITALS_SCREENSHOT")
    if target:
        path = Path(target)
        page.screenshot(
            path=path.with_name(f"{path.stem}-{suffix}{path.suffix or '.png'}"), full_page=True
        )


def chart_spec(page: Page, chart: str) -> dict[str, Any]:
    text = page.locator(f"#{chart}-data").text_content()
    assert text is not None
    spec: dict[str, Any] = json.loads(text)
    return spec


def value_of(row: Any, testid: str) -> float | None:
    raw = row.get_by_test_id(testid).locator("data").get_attribute("value")
    return None if raw in (None, "") else float(raw)


def test_list_shows_each_datasets_latest_verdict(
    datasets_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = datasets_server
    page = tab.page
    page.goto(server.url + "/datasets")
    expect(page.get_by_role("heading", level=1)).to_have_text("Datasets")
    rows = page.get_by_test_id("datasets-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    features = page.locator(f"tr[data-dataset='{DATASET}']")
    expect(features).to_have_attribute("data-status", "failed")
    expect(features.locator("[data-verdict]")).to_have_text("Failed")
    drifted = features.locator("[data-drifted]")
    expect(drifted).to_have_attribute("data-drifted", str(len(seeded.latest.drift.drifted)))
    expect(features.get_by_test_id("failures")).to_have_text(str(len(seeded.latest.failures)))
    expect(features.get_by_test_id("rows")).to_have_text(f"{len(seeded.currents[-1]):,}")
    raw = page.locator(f"tr[data-dataset='{PROFILED}']")
    expect(raw.locator("[data-verdict]")).to_have_text("Not checked")
    expect(raw.get_by_test_id("rows")).to_have_text(f"{len(seeded.reference):,}")
    expect(page.get_by_test_id("total-failing")).to_have_text("1")
    expect(page.get_by_test_id("total-unchecked")).to_have_text("1")
    with page.expect_navigation():
        features.get_by_role("link", name=DATASET).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DATASET)
    tab.issues.assert_none()


def test_dataset_page_shows_the_seeded_check(
    datasets_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = datasets_server
    page = tab.page
    page.goto(f"{server.url}/datasets/{DATASET}")
    wait_for_charts(page)
    latest = seeded.latest
    expect(page.get_by_test_id("verdict").locator("[data-verdict]")).to_have_text("Failed")
    expect(page.get_by_test_id("check-rows")).to_have_text(f"{len(seeded.currents[-1]):,}")
    expect(page.get_by_test_id("drifted-columns")).to_have_text(
        f"{len(latest.drift.drifted)} of {len(latest.drift.tested)}"
    )

    # Validation: the out-of-range ages with their rows and values.
    expect(page.get_by_test_id("failures").locator("li")).to_have_count(len(latest.failures))
    (failure,) = [f for f in latest.failures if f.column == "age"]
    item = page.locator(".ds-failure[data-check='range'][data-column='age']")
    expect(item.locator(".ds-failure-message")).to_have_text(failure.message)
    sample_rows = item.get_by_test_id("samples").locator("tbody tr")
    expect(sample_rows).to_have_count(len(failure.samples))
    bad_rows = np.flatnonzero(seeded.currents[-1]["age"].to_numpy() == BAD_AGE)[:5]
    for tr, row in zip(sample_rows.all(), bad_rows, strict=True):
        expect(tr.locator("td").nth(0)).to_have_text(str(row))
        expect(tr.locator("td").nth(1)).to_have_text(str(BAD_AGE))

    # The drift table holds the engine's numbers, column by column.
    table = page.get_by_test_id("drift-table")
    expect(table.locator("tbody tr")).to_have_count(len(latest.drift.columns))
    for c in latest.drift.columns:
        row = table.locator(f"tr[data-column='{c.column}']")
        expect(row).to_have_attribute("data-drifted", "true" if c.drifted else "false")
        assert value_of(row, "statistic") == pytest.approx(c.statistic, rel=1e-12)
        assert value_of(row, "p-value") == pytest.approx(c.p_adjusted, rel=1e-12, abs=1e-300)
        assert value_of(row, "effect-size") == pytest.approx(c.effect_size, rel=1e-12)
        assert value_of(row, "threshold") == c.threshold
        expect(row.get_by_test_id("drifted")).to_have_text("Drifted" if c.drifted else "No")
    # Drifted columns come first.
    expect(table.locator("tbody tr").first).to_have_attribute("data-column", "income")
    tab.issues.assert_none()


def test_charts_are_drawn_from_the_checks(
    datasets_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = datasets_server
    page = tab.page
    page.goto(f"{server.url}/datasets/{DATASET}")
    wait_for_charts(page)

    # Drift over time: one line per column, one point per check, the effect sizes.
    drift = page.locator("#chart-drift [data-chart]")
    expect(drift).to_have_attribute("data-state", "drawn")
    spec = chart_spec(page, "chart-drift")
    lines = {s["name"]: s for s in spec["series"]}
    assert sorted(lines) == ["age", "income", "plan", "threshold"]
    assert lines["income"]["x"] == pytest.approx(seeded.times)
    assert lines["income"]["y"] == pytest.approx(
        [c.drift.column("income").effect_size for c in seeded.checks], rel=1e-12
    )
    assert lines["threshold"]["y"] == [0.1, 0.1]
    drawn = drift.evaluate("el => el.data.map(t => [t.name, t.y.length])")
    assert sorted(tuple(t) for t in drawn) == [
        ("age", 4),
        ("income", 4),
        ("plan", 4),
        ("threshold", 2),
    ]
    # The effect grows with the shift.
    assert lines["income"]["y"] == sorted(lines["income"]["y"])
    assert len(SHIFTS) == len(lines["income"]["y"])

    # Rows over time: one point per check and per profile in the range.
    rows = chart_spec(page, "chart-rows")["series"][0]
    assert rows["y"] == [len(c) for c in seeded.currents]

    # Distributions: reference vs current per column, as shares of values per bin.
    hist = page.get_by_test_id("histograms").locator("figure")
    expect(hist).to_have_count(3)
    # Drifted columns first, then columns that failed a validation check.
    expect(hist.locator(".chart-title")).to_have_text(
        ["income — drifted — failed a check", "age — failed a check", "plan"]
    )
    first = chart_spec(page, "chart-hist-0")
    assert [s["name"] for s in first["series"]] == ["reference", "current"]
    edges = np.asarray(seeded.latest.reference.column("income").histogram.edges)  # type: ignore[union-attr]
    for s, frame in zip(first["series"], (seeded.reference, seeded.currents[-1]), strict=True):
        values = frame["income"].to_numpy()
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        assert s["y"] == pytest.approx((100.0 * counts / len(values)).tolist(), rel=1e-12)
    for figure in hist.all():
        plot = figure.locator("[data-chart]")
        expect(plot).to_have_attribute("data-state", "drawn")
        assert plot.evaluate("el => el.data.length") == 2
    tab.issues.assert_none()


def test_an_older_check_can_be_opened_from_the_list_of_checks(
    datasets_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = datasets_server
    page = tab.page
    page.goto(f"{server.url}/datasets/{DATASET}")
    checks = page.get_by_test_id("checks-table").locator("tbody tr")
    expect(checks).to_have_count(len(seeded.checks))
    with page.expect_navigation():
        checks.last.get_by_role("link").click()  # the oldest: no drift, no failure
    expect(page.get_by_test_id("older-check")).to_be_visible()
    expect(page.get_by_test_id("verdict").locator("[data-verdict]")).to_have_text("Passed")
    expect(page.get_by_test_id("no-failures")).to_be_visible()
    oldest = seeded.checks[0].drift.column("income")
    row = page.get_by_test_id("drift-table").locator("tr[data-column='income']")
    assert value_of(row, "statistic") == pytest.approx(oldest.statistic, rel=1e-12)
    wait_for_charts(page)
    tab.issues.assert_none()


def test_profile_only_dataset_and_unknown_dataset(
    datasets_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, seeded = datasets_server
    page = tab.page
    page.goto(f"{server.url}/datasets/{PROFILED}")
    wait_for_charts(page)
    expect(page.get_by_test_id("verdict").locator("[data-verdict]")).to_have_text("Not checked")
    assert seeded.profile is not None
    expect(page.get_by_test_id("histograms").locator("figure")).to_have_count(
        len(seeded.profile.columns)
    )
    tab.issues.assert_none()
    response = page.goto(f"{server.url}/datasets/no-such-dataset")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("no-such-dataset")


def test_dataset_pages_fit_a_phone_screen(
    datasets_server: tuple[LiveServer, Seeded], tab: BrowserPage
) -> None:
    server, _ = datasets_server
    page = tab.page
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("/datasets", "datasets-phone"), (f"/datasets/{DATASET}", "dataset-phone")):
        page.goto(server.url + path)
        wait_for_charts(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        screenshot(page, name)
    tab.issues.assert_none()


def test_empty_server_says_how_to_start(tmp_path: Path, tab: BrowserPage) -> None:
    server = start_server(tmp_path / "empty")
    try:
        page = tab.page
        page.goto(server.url + "/datasets")
        expect(
            page.get_by_role("heading", level=2, name="Nothing recorded yet — how to start")
        ).to_be_visible()
        expect(page.locator("pre code")).to_contain_text("monitor.check(")
        tab.issues.assert_none()
    finally:
        stop_server(server)
