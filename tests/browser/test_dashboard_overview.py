"""The Server page (what the store holds, ingest per minute) in a real browser, against a
real server holding ingested records."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from .harness import BrowserPage, LiveServer

pytestmark = pytest.mark.browser

SEEDED = 1240  # 1,234 instance samples and 6 serving windows in two batches (seeded_server)


def test_overview_shows_the_seeded_counts(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.goto(seeded_server.url + "/server")
    expect(page.get_by_role("heading", level=1)).to_have_text("Server")
    expect(page.get_by_test_id("records")).to_have_text("1,240")
    expect(page.get_by_test_id("batches")).to_have_text("2")
    expect(page.get_by_test_id("last-hour")).to_have_text("1,240")
    expect(page.get_by_test_id("kind-instance_sample")).to_have_text("1,234")
    expect(page.get_by_test_id("kind-serving_window")).to_have_text("6")
    expect(page.get_by_test_id("last-ingest")).to_contain_text("just now")
    # With records stored, the "how to start" empty state is gone.
    expect(page.get_by_text("Nothing recorded yet")).to_have_count(0)
    browser_page.issues.assert_none()


def test_ingest_chart_is_drawn_with_one_bar_per_minute(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.goto(seeded_server.url + "/server")
    plot = page.locator("#ingest-per-minute [data-chart]")
    expect(plot).to_have_attribute("data-state", "drawn")
    expect(plot.locator("svg.main-svg").first).to_be_visible()
    # Plotly draws one path per bar: 60 minutes, the quiet ones as zero-height bars.
    expect(plot.locator("g.trace.bars g.point")).to_have_count(60)
    # The bars the browser holds add up to what was sent, all of it in the last minutes.
    heights = plot.evaluate("el => el.data[0].y")
    assert sum(heights) == SEEDED
    assert sum(1 for h in heights if h) in (1, 2)  # both batches, maybe across a minute edge
    # Time labels are drawn on the x axis (Plotly's date axis, in local time).
    expect(plot.locator(".xtick text").first).to_be_visible()
    browser_page.issues.assert_none()


def test_overview_screenshot_for_review(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    """Writes a screenshot when MLVITALS_SCREENSHOT names a file; asserts the page is clean."""
    page = browser_page.page
    page.goto(seeded_server.url + "/server")
    expect(page.locator("[data-chart]")).to_have_attribute("data-state", "drawn")
    target = os.environ.get("MLVITALS_SCREENSHOT")
    if target:
        page.screenshot(path=target, full_page=True)
    browser_page.issues.assert_none()


def test_overview_is_usable_on_a_phone_sized_screen(
    seeded_server: LiveServer, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(seeded_server.url + "/server")
    expect(page.locator("[data-chart]")).to_have_attribute("data-state", "drawn")
    # Nothing is wider than the screen: no sideways scrolling of the whole page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    svg_width = page.locator("[data-chart] svg.main-svg").first.bounding_box()
    assert svg_width is not None and svg_width["width"] <= 390
    browser_page.issues.assert_none()
